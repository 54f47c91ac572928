#!/usr/bin/perl
# count_results.pl gtest|regress|tap|fuzz LOGFILE: prints "PASSED FAILED" for one runner's output.
#
#   gtest    one per test case: "[       OK ] Suite.Name (N ms)" and "[  FAILED  ] Suite.Name (N ms)"
#   regress  one per pg_regress test: "test name ... ok" and "test name ... FAILED"
#   fuzz     one per libFuzzer target: "fuzz name: ok (N runs)" and "fuzz name: FAILED"
#   tap      one per assertion, from prove's summary: "Files=F, Tests=N" and, in the "Test Summary Report",
#            "t/x.pl (Wstat: W ... Tests: N Failed: K)". A file that exited non-zero or broke its plan
#            without a failed assertion (it died half-way) counts as one failure.
#
# A runner that crashed may print too little to count; the caller compares with its exit status.
use strict;
use warnings;

my ($kind, $file) = @ARGV;
die "usage: $0 gtest|regress|tap|fuzz LOGFILE\n" unless $kind && defined $file;
open my $log, '<', $file or die "$file: $!\n";
my @lines = <$log>;
close $log;

my ($passed, $failed) = (0, 0);
if ($kind eq 'gtest')
{
	$passed = grep { /^\[       OK \] .* \(\d+ ms\)$/ } @lines;
	$failed = grep { /^\[  FAILED  \] .* \(\d+ ms\)$/ } @lines;
}
elsif ($kind eq 'fuzz')
{
	# one per target: "fuzz <target>: ok (N runs)" or "fuzz <target>: FAILED"
	$passed = grep { /^fuzz \S+: ok\b/ } @lines;
	$failed = grep { /^fuzz \S+: FAILED\b/ } @lines;
}
elsif ($kind eq 'regress')
{
	$passed = grep { /\.\.\. ok\b/ } @lines;
	$failed = grep { /\.\.\. FAILED\b/ } @lines;
}
elsif ($kind eq 'tap')
{
	my ($total, $failed_assertions, $died_files, $in_report) = (0, 0, 0, 0);
	my ($file_failed, $file_broken);    # the summary-report entry being read
	my $end_entry = sub {
		$died_files++ if $file_broken && !$file_failed;
		($file_failed, $file_broken) = (0, 0);
	};
	for (@lines)
	{
		if (/^Test Summary Report/) { $in_report = 1; }
		elsif ($in_report && /\(Wstat: (\d+).* Tests: \d+ Failed: (\d+)\)\s*$/)
		{
			$end_entry->();
			($file_failed, $file_broken) = ($2, $1 != 0);
			$failed_assertions += $2;
		}
		elsif ($in_report && /^\s+Parse errors:/) { $file_broken = 1; }
		elsif (/^Files=\d+, Tests=(\d+),/)
		{
			$end_entry->();
			($total, $in_report) = ($1, 0);
		}
	}
	$end_entry->();
	$passed = $total - $failed_assertions;
	$failed = $failed_assertions + $died_files;
}
else
{
	die "unknown kind '$kind'\n";
}
print "$passed $failed\n";
