# The scripted LLM's own tests (test/llm/test_llm_stub.py): the stand-ins the other tests ask must behave as the
# services they stand for, before anything is judged against them.
use strict;
use warnings;

use IPC::Run;
use Test::More;

my $self_test = ($ENV{TESTDIR} // '.') . '/test/llm/test_llm_stub.py';
my ($out, $err) = ('', '');
my $ok = IPC::Run::run([ '/usr/bin/python3', $self_test ], '>', \$out, '2>', \$err);
ok($ok, 'test/llm/test_llm_stub.py passes') or diag($err);
like($err, qr/^Ran \d+ tests? in /m, '... and ran its tests') or diag($err);
done_testing();
