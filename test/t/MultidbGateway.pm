# Helpers for the gateway's TAP tests: the answers a test collected, checked against the schemas of multidb-web's
# OpenAPI document (python3-jsonschema).
package MultidbGateway;

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempfile);
use IPC::Run;
use JSON::PP;

our @EXPORT = qw(check_answers);

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
