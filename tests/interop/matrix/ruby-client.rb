# Token client of test-matrix.sh: Ruby's rubyntlm (Debian ruby-ntlm),
# Net::NTLM::Client. Usage: ruby ruby-client.rb USER DOMAIN; the password is
# the first line of stdin. Prints the NEGOTIATE (base64) and, for the
# CHALLENGE read on stdin, the AUTHENTICATE.
require 'net/ntlm'

$stdout.sync = true
user, domain = ARGV.map { |a| a.dup.force_encoding('UTF-8') }
password = $stdin.readline.chomp.force_encoding('UTF-8')
client = Net::NTLM::Client.new(user, password, domain: domain, workstation: 'RUBYWS')
puts client.init_context.encode64
challenge = $stdin.readline.chomp
puts client.init_context(challenge).encode64
