// HTTP client of test-matrix.sh: Node's httpntlm (npm). Usage:
// node httpntlm-client.js URL USER DOMAIN; the password is the first line of
// stdin; NODE_PATH names the node_modules that install-npm-clients.sh filled.
// Prints the final HTTP status.
'use strict';
const httpntlm = require('httpntlm');
const [url, user, domain] = process.argv.slice(2);
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const password = input.split('\n')[0];
  httpntlm.get({ url, username: user, password, domain, workstation: 'NODEWS' }, (err, res) => {
    if (err) {
      console.log('error ' + err.message);
      process.exit(1);
    }
    console.log(res.statusCode);
  });
});
