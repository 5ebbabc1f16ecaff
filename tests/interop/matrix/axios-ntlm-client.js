// HTTP client of test-matrix.sh: Node's axios-ntlm (npm). Usage:
// node axios-ntlm-client.js URL USER DOMAIN; the password is the first line
// of stdin; NODE_PATH names the node_modules that install-npm-clients.sh
// filled. Prints the final HTTP status.
'use strict';
const { NtlmClient } = require('axios-ntlm');
const [url, user, domain] = process.argv.slice(2);
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const password = input.split('\n')[0];
  const client = NtlmClient({ username: user, password, domain, workstation: 'NODEWS' });
  client.get(url, { timeout: 10000 }).then(
    (res) => console.log(res.status),
    (err) => {
      if (err.response) {
        console.log(err.response.status);
      } else {
        console.log('error ' + err.message);
        process.exit(1);
      }
    });
});
