# Starts the browser test's fixture (test/t/MultidbWeb.pm: production and backup, the coordinator, the scripted
# LLM, multidb-web) and runs one script of test/browser against it with --base-url and --fixture, under the
# browser lock: `make screenshots` (screenshots.py) and the UI bench (bench_ui.py) start it so, through lib.sh's
# run_web_fixture. Prints the script's output; exits with its status.
#   perl -I <pgxs>/test/perl -I test/t test/browser/with_fixture.pl SCRIPT [ARGS...]
# (TESTDIR, PATH with the server's programs first, and PG_REGRESS set as for the TAP tests).
use strict;
use warnings;

use MultidbWeb;
use Test::More;

my ($script, @args) = @ARGV;
die "usage: with_fixture.pl SCRIPT [ARGS...]\n" unless defined $script;
my $web = start_web_fixture();
my ($status, $out, $err) = run_browser($web, $script, @args);
# PostgreSQL::Test::Utils sends STDOUT and STDERR to its log file; Test::More's handles still reach the terminal.
my $builder = Test::More->builder;
print { $builder->output } $out;
print { $builder->failure_output } $err;
$web->{gateway}->signal('TERM');
$web->{gateway}->finish;
$builder->no_ending(1);    # not a test: no plan to complain about
exit $status;
