# The web UI in a real browser: Debian's headless chromium, driven by Selenium through Debian's chromedriver,
# against the real gateway, real clusters (production and backup) and the scripted LLM (test/t/MultidbWeb.pm).
# Every scenario of test/browser/scenario_*.py runs in one browser (test/browser/run.py), one at a time on the
# machine (flock on /tmp/multidb-browser.lock), and is one assertion here; a failed one names its reason and the
# screenshot it left. BROWSER_SCENARIOS=REGEX runs only the scenarios whose name it finds; failure screenshots go
# to $MULTIDB_BROWSER_FAILURES, else to a new /tmp/multidb-browser-XXXXXX (removed when nothing failed). Also: a 401
# to a page's own fetch (Sec-Fetch-Mode: cors) carries no Basic challenge, which would hold it in a browser.
use strict;
use warnings;

use File::Temp qw(tempdir);
use MultidbWeb;
use Test::More;
use Time::HiRes qw(time);

my $start = time;
my $web = start_web_fixture();
my $ready = time;

# A browser holds a fetch answered 401 with a Basic challenge and opens its own password dialog (headless: the
# request never ends, the page stays on "Loading…"): a page's fetch gets the 401 without it, curl still with it.
my $fetch_401 = `curl -s -o /dev/null -D - -H 'Sec-Fetch-Mode: cors' $web->{url}/api/auth/me`;
my $curl_401 = `curl -s -o /dev/null -D - $web->{url}/api/auth/me`;
like($fetch_401, qr{^HTTP/1\.1 401}m, 'signed out, a page\'s fetch of /api/auth/me is 401');
unlike($fetch_401, qr/^WWW-Authenticate:/mi, '... without a Basic challenge');
like($curl_401, qr/^WWW-Authenticate: Basic/mi, 'curl\'s 401 keeps the challenge');

my $failures = $ENV{MULTIDB_BROWSER_FAILURES} // tempdir('multidb-browser-XXXXXX', TMPDIR => 1, CLEANUP => 0);
my @only = defined $ENV{BROWSER_SCENARIOS} ? ('--only', $ENV{BROWSER_SCENARIOS}) : ();
my ($status, $out, $err, $waited) = run_browser($web, 'run.py', '--screenshots', $failures, @only);

my ($passed, $failed) = (0, 0);
for my $line (split /\n/, $out)
{
	if ($line =~ /^ok (\S+)$/)
	{
		pass("browser: $1");
		$passed++;
	}
	elsif ($line =~ /^not ok (\S+): (.*)$/)
	{
		fail("browser: $1");
		diag("$1: $2");
		$failed++;
	}
	else
	{
		diag("run.py: $line");
	}
}
ok($passed + $failed > 0, 'the browser ran scenarios') or diag("run.py exited $status: $err");
is($status, $failed ? 1 : 0, 'run.py\'s exit status agrees with its lines') or diag($err);
if ($failed || $status)
{
	diag("screenshots and pages of the failed scenarios: $failures");
	diag("run.py's stderr:\n$err") if $err ne '';
	diag("multidb-web's stderr:\n${ $web->{gateway_err} }") if ${ $web->{gateway_err} } ne '';
}
else
{
	rmdir $failures unless defined $ENV{MULTIDB_BROWSER_FAILURES};
}
diag(sprintf('fixture %.1f s, the browser lock waited for %.1f s, %d scenarios %.1f s (%s)', $ready - $start, $waited,
		$passed + $failed, time - $ready - $waited, join(', ', $err =~ /^(\S+: [\d.]+ s)$/mg)));

$web->{gateway}->signal('TERM');
$web->{gateway}->finish;
done_testing();
