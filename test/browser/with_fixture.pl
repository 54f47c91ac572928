# Starts the browser test's fixture (test/t/MultidbWeb.pm: production and backup, the coordinator, the scripted
# LLM, multidb-web) and runs one script of test/browser against it with --base-url and --fixture, under the
# browser lock: `make screenshots` (screenshots.py) and the UI bench (bench_ui.py) start it so, through lib.sh's
# run_web_fixture. Prints the script's output; exits with its status.
#   perl -I <pgxs>/test/perl -I test/t test/browser/with_fixture.pl SCRIPT [ARGS...]
# (TESTDIR, PATH with the server's programs first, and PG_REGRESS set as for the TAP tests).
use strict;
use warnings;

use MultidbWeb;

my ($script, @args) = @ARGV;
die "usage: with_fixture.pl SCRIPT [ARGS...]\n" unless defined $script;
my $web = start_web_fixture();
my ($status, $out, $err) = run_browser($web, $script, @args);
print $out;
print STDERR $err;
$web->{gateway}->signal('TERM');
$web->{gateway}->finish;
exit $status;
