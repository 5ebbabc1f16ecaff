#!/usr/bin/perl
# Token client of test-matrix.sh: Perl's Authen::NTLM (libauthen-ntlm-perl),
# version 1 (its default: NTLMv1) or 2 (NTLMv2).
# Usage: perl-client.pl VERSION USER DOMAIN; the password is the
# first line of stdin. Prints the NEGOTIATE (base64) and, for the CHALLENGE
# read on stdin, the AUTHENTICATE.
use strict;
use warnings;
use Encode qw(decode);
use Authen::NTLM;

$| = 1;
my $version = shift @ARGV;
my ($user, $domain) = map { decode('UTF-8', $_) } @ARGV;
my $password = <STDIN>;
chomp $password;
$password = decode('UTF-8', $password);
my $ntlm = Authen::NTLM->new(user => $user, domain => $domain, password => $password, version => $version);
print $ntlm->challenge(), "\n";
my $challenge = <STDIN>;
chomp $challenge;
print $ntlm->challenge($challenge), "\n";
