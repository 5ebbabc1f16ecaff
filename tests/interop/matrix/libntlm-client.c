/*
 * Token client of test-matrix.sh: GNU libntlm (libntlm0-dev), built by the
 * test with the system's cc. Usage: libntlm-client USER DOMAIN; the password
 * is the first line of stdin. Prints the NEGOTIATE (base64) and, for the
 * CHALLENGE read on stdin, the AUTHENTICATE. libntlm makes NTLMv1 (LM and NT)
 * responses only.
 */
#include <ntlm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_b64(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		putchar(B64[(v >> 18) & 63]);
		putchar(B64[(v >> 12) & 63]);
		putchar(i + 1 < n ? B64[(v >> 6) & 63] : '=');
		putchar(i + 2 < n ? B64[v & 63] : '=');
	}
	putchar('\n');
	fflush(stdout);
}

static size_t get_b64(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned long v = 0;
	int bits = 0;
	for (; *s != '\0' && *s != '=' && *s != '\n'; s++) {
		const char *c = strchr(B64, *s);
		if (c == NULL)
			return 0;
		v = (v << 6) | (unsigned long)(c - B64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return 0;
			out[n++] = (unsigned char)(v >> bits);
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	char password[256], line[4096];
	tSmbNtlmAuthRequest req;
	tSmbNtlmAuthChallenge chal;
	tSmbNtlmAuthResponse resp;

	if (argc != 3 || fgets(password, sizeof password, stdin) == NULL)
		return 2;
	password[strcspn(password, "\n")] = '\0';
	buildSmbNtlmAuthRequest_noatsplit(&req, argv[1], argv[2]);
	put_b64((const unsigned char *)&req, SmbLength(&req));
	if (fgets(line, sizeof line, stdin) == NULL)
		return 2;
	memset(&chal, 0, sizeof chal);
	if (get_b64(line, (unsigned char *)&chal, sizeof chal) < 32) {
		fputs("libntlm-client: bad CHALLENGE\n", stderr);
		return 1;
	}
	buildSmbNtlmAuthResponse_noatsplit(&chal, &resp, argv[1], password);
	put_b64((const unsigned char *)&resp, SmbLength(&resp));
	return 0;
}
