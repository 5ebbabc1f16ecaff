// Token client of test-matrix.sh: go-ntlmssp (Debian
// golang-github-azure-go-ntlmssp-dev), built offline from /usr/share/gocode.
// Usage: go-client USER DOMAIN; the password is the first line of stdin.
// Prints the NEGOTIATE (base64) and, for the CHALLENGE read on stdin, the
// AUTHENTICATE.
package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/go-ntlmssp"
)

func main() {
	user, domain := os.Args[1], os.Args[2]
	in := bufio.NewReader(os.Stdin)
	password, _ := in.ReadString('\n')
	password = strings.TrimRight(password, "\n")
	neg, err := ntlmssp.NewNegotiateMessage(domain, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-client:", err)
		os.Exit(1)
	}
	fmt.Println(base64.StdEncoding.EncodeToString(neg))
	line, _ := in.ReadString('\n')
	chal, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-client:", err)
		os.Exit(1)
	}
	auth, err := ntlmssp.ProcessChallenge(chal, user, password, domain != "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-client:", err)
		os.Exit(1)
	}
	fmt.Println(base64.StdEncoding.EncodeToString(auth))
}
