# The scripted LLM for TAP tests: starts test/llm/llm_stub.py on a free port and lets a test replace its
# script and read what multidb sent.
package MultidbLlm;

use strict;
use warnings;

use File::Temp qw(tempdir);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Scalar::Util qw(weaken);
use Time::HiRes qw(usleep);

# Every stub started and not yet stopped (weak references). A test's file-scope object is destroyed only in global
# destruction, where IPC::Run's own objects may already be gone and the stub would outlive the test: END stops them.
my @running;

sub new
{
	my ($class, %script) = @_;
	my $dir = tempdir(CLEANUP => 1);
	my $self = bless { dir => $dir, script => "$dir/script.json", port_file => "$dir/port" }, $class;
	$self->set_script(%script);
	my $stub = ($ENV{TESTDIR} // '.') . '/test/llm/llm_stub.py';
	$self->{handle} = IPC::Run::start([ '/usr/bin/python3', $stub, '--script', $self->{script},
			'--port-file', $self->{port_file} ], '>', \my $out, '2>', \my $err);
	for (1 .. 100)
	{
		last if -s $self->{port_file};
		usleep(50_000);
	}
	die "the LLM stub did not start: $err" unless -s $self->{port_file};
	$self->{port} = slurp_file($self->{port_file});
	push @running, $self;
	weaken($running[-1]);
	return $self;
}

sub port { return $_[0]->{port} }

# set_script(rules => [...], default => '...')
sub set_script
{
	my ($self, %script) = @_;
	open my $f, '>', "$self->{script}.tmp" or die $!;
	print $f encode_json(\%script);
	close $f;
	rename "$self->{script}.tmp", $self->{script} or die $!;
	return;
}

# Every request the stub received so far, decoded.
sub requests
{
	my ($self) = @_;
	my $log = "$self->{script}.log";
	return () unless -e $log;
	return map { decode_json($_) } grep { length } split /\n/, slurp_file($log);
}

sub DESTROY
{
	my ($self) = @_;
	# At exit this runs after Test::More has set the exit status in $?; kill_kill would overwrite it with the
	# stub's (killed by SIGTERM: 15), failing a test file whose every assertion passed.
	local $?;
	$self->{handle}->kill_kill if $self->{handle};
	delete $self->{handle};
	return;
}

END
{
	local $?;
	for my $stub (grep { defined } @running)
	{
		$stub->{handle}->kill_kill if $stub->{handle};
		delete $stub->{handle};
	}
}

1;
