# Helpers for the gateway's TAP tests: starting multidb-web against a coordinator (the installed program, the
# authenticator's login, a free loopback port, waited for until it answers), one curl request read back as status,
# JSON and headers, and the answers a test collected, checked against the schemas of multidb-web's OpenAPI
# document (python3-jsonschema).
package MultidbGateway;

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempfile);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use Time::HiRes qw(usleep);

our @EXPORT = qw(check_answers gateway_program authenticator_conninfo launch_gateway curl);

# The multidb-web this build installed (pg_config's bindir), else the one on PATH.
sub gateway_program
{
	my $bindir = `pg_config --bindir`;
	chomp $bindir;
	return -x "$bindir/multidb-web" ? "$bindir/multidb-web" : 'multidb-web';
}

# The conninfo the gateway logs in to the coordinator with: the role authenticator (password authpw, as every
# gateway test makes it) over the coordinator's socket.
sub authenticator_conninfo
{
	my ($coordinator) = @_;
	return 'host=' . $coordinator->host . ' port=' . $coordinator->port
	  . ' dbname=postgres user=authenticator password=authpw';
}

# launch_gateway(flags => [...], port => N, env => {...}): multidb-web listening on 127.0.0.1 (port N, or a free
# one) with these flags (--database among them) and extra environment, waited for until GET /api/health answers
# 200 (at most 10 s; https, unverified, when --tls-cert is among the flags). Returns {handle, url, port, out, err,
# up}: out and err are references to what it wrote so far, up whether it answered.
sub launch_gateway
{
	my (%opts) = @_;
	my @flags = @{ $opts{flags} // [] };
	my $port = $opts{port} // PostgreSQL::Test::Cluster::get_free_port();
	my ($out, $err) = ('', '');
	my $handle;
	{
		local %ENV = (%ENV, %{ $opts{env} // {} });
		$handle = IPC::Run::start([ gateway_program(), '--listen', "127.0.0.1:$port", @flags ],
			'>', \$out, '2>', \$err);
	}
	my $scheme = (grep { $_ eq '--tls-cert' } @flags) ? 'https' : 'http';
	my $url = "$scheme://127.0.0.1:$port";
	my $up = 0;
	for (1 .. 100)
	{
		$up = 1, last if `curl -s -k -o /dev/null -w '%{http_code}' $url/api/health` eq '200';
		usleep(100_000);
	}
	$handle->pump_nb;
	return { handle => $handle, url => $url, port => $port, out => \$out, err => \$err, up => $up };
}

# curl(@args): one request with curl -s; (status, the body decoded as JSON or else its text, the headers).
sub curl
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'curl', '-s', '-D', '-', '-w', '\n%{http_code}', @args ], '>', \$out, '2>', \$err);
	my ($status) = $out =~ /(\d+)\s*\z/;
	$out =~ s/\n?\d+\s*\z//;
	my ($headers, $body) = split /\r\n\r\n/, $out, 2;
	$body //= '';
	my $json = eval { decode_json($body) };
	return ($status // 0, $json // $body, $headers // '');
}

# check_answers($doc, \@answers): each answer [method, OpenAPI path, status, body] validated against the
# document's response schema for that path, method and status. Returns (number checked, error output, the
# answers that are not valid or whose status is not documented).
sub check_answers
{
	my ($doc, $answers) = @_;
	my ($fh, $answers_file) = tempfile(UNLINK => 1);
	print $fh encode_json($answers);
	close $fh;
	my ($dfh, $doc_file) = tempfile(UNLINK => 1);
	print $dfh encode_json($doc);
	close $dfh;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'python3', '-c', <<'PY', $doc_file, $answers_file ], '>', \$out, '2>', \$err);
import json, sys
import jsonschema
doc = json.load(open(sys.argv[1]))
answers = json.load(open(sys.argv[2]))
bad, checked = [], 0
for method, path, status, body in answers:
    op = doc["paths"][path][method]
    response = op["responses"].get(str(status))
    if response is None:
        bad.append(f"{method} {path}: status {status} is not documented")
        continue
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].split("/")[-1]]
    schema = dict(response["content"]["application/json"]["schema"])
    schema["components"] = doc["components"]
    try:
        jsonschema.Draft202012Validator(schema).validate(body)
        checked += 1
    except jsonschema.ValidationError as e:
        bad.append(f"{method} {path} {status}: {e.message}")
print(checked)
for b in bad: print(b)
PY
	my ($checked, @invalid) = split /\n/, $out;
	return ($checked // 0, $err, @invalid);
}

1;
