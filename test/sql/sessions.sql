-- Sessions, the LLM wrapper's options, and asks that cannot start.
-- LLM servers: provider, url, model, timeout and what a request carries on the server; api_key on the user
-- mapping. Each value is checked as an ask reads it, and the options together.
CREATE SERVER llm_bad1 FOREIGN DATA WRAPPER multidb_llm OPTIONS (provider 'gemini');
CREATE SERVER llm_bad2 FOREIGN DATA WRAPPER multidb_llm OPTIONS (api_key 'sk-x');
CREATE SERVER llm_bad3 FOREIGN DATA WRAPPER multidb_llm OPTIONS (top_p '0.5');
CREATE SERVER llm_bad4 FOREIGN DATA WRAPPER multidb_llm OPTIONS (timeout 'soon');
CREATE SERVER llm_bad5 FOREIGN DATA WRAPPER multidb_llm OPTIONS (model 'm', temperature 'hot');
CREATE SERVER llm_bad6 FOREIGN DATA WRAPPER multidb_llm OPTIONS (model 'm', headers '{"Authorization": "Bearer sk-x"}');
CREATE SERVER llm_bad7 FOREIGN DATA WRAPPER multidb_llm OPTIONS (model 'm', headers '{"X-Title": "a\r\nX-Evil: 1"}');
CREATE SERVER llm_bad8 FOREIGN DATA WRAPPER multidb_llm OPTIONS (provider 'azure', model 'prod-4o');
CREATE SERVER llm_bad9 FOREIGN DATA WRAPPER multidb_llm OPTIONS (provider 'anthropic', model 'c', response_format 'json_schema');
CREATE SERVER llm_reasoning FOREIGN DATA WRAPPER multidb_llm
  OPTIONS (model 'o3-mini', token_limit_field 'max_completion_tokens', temperature 'none', response_format 'json_schema',
           headers '{"X-Title": "multidb"}', max_tokens '20000');
-- ALTER SERVER is checked with every option the server will have
ALTER SERVER llm_reasoning OPTIONS (ADD provider 'anthropic');
DROP SERVER llm_reasoning;
CREATE SERVER llm_ok FOREIGN DATA WRAPPER multidb_llm
  OPTIONS (provider 'anthropic', url 'http://127.0.0.1:9/', model 'claude-test', timeout '30s', max_tokens '1000');
CREATE USER MAPPING FOR PUBLIC SERVER llm_ok OPTIONS (model 'x');
CREATE USER MAPPING FOR PUBLIC SERVER llm_ok OPTIONS (api_key 'sk-regress-secret');
-- the key is nowhere a plain role could read it
CREATE ROLE multidb_regress_reader;
SET ROLE multidb_regress_reader;
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname = 'llm_ok';
SELECT count(*) FROM pg_settings WHERE name LIKE 'multidb.%' AND setting LIKE '%sk-%';
RESET ROLE;

-- Sessions
SELECT sqlstate_of($$SELECT multidb.create_session('bad', ARRAY['alpha', 'nowhere'])$$);
SELECT sqlstate_of($$SELECT multidb.create_session(NULL, ARRAY['alpha'])$$);
SELECT multidb.create_session('regress', ARRAY['alpha']) AS session \gset
SELECT name, owner = current_user AS mine, connections FROM multidb.chat_sessions WHERE id = :'session';
SELECT multidb.attach(:'session', 'beta');
SELECT multidb.attach(:'session', 'beta');
SELECT connections FROM multidb.chat_sessions WHERE id = :'session';
SELECT sqlstate_of(format('SELECT multidb.attach(%L, %L)', :'session', 'nowhere'));
SELECT multidb.detach(:'session', 'alpha');
SELECT connections FROM multidb.chat_sessions WHERE id = :'session';
SELECT sqlstate_of($$SELECT multidb.attach('00000000-0000-0000-0000-000000000000', 'alpha')$$);
-- another role neither sees nor touches it
SET ROLE multidb_regress_reader;
SELECT count(*) FROM multidb.chat_sessions;
SELECT regexp_replace(sqlstate_of(format('SELECT multidb.drop_session(%L)', :'session')), '[0-9a-f-]{36}', '<session>');
SELECT regexp_replace(sqlstate_of(format('SELECT * FROM multidb.ask(%L, %L)', 'hello', :'session')), '[0-9a-f-]{36}', '<session>');
RESET ROLE;

-- Asks that cannot start say why.
SELECT * FROM multidb.ask('hello');
-- the HINT lists only connections the role can use: USAGE without a user mapping is not enough
CREATE ROLE hint_reader;
GRANT USAGE ON FOREIGN SERVER alpha TO hint_reader;
SET ROLE hint_reader;
SELECT * FROM multidb.ask('hello');
RESET ROLE;
DROP OWNED BY hint_reader;
DROP ROLE hint_reader;
SELECT * FROM multidb.ask('hello', :'session', ARRAY['alpha']);
SELECT * FROM multidb.ask(NULL, :'session');
SET multidb.llm_server = 'nope';
SELECT * FROM multidb.ask('hello', :'session');
RESET multidb.llm_server;
CREATE SERVER llm_second FOREIGN DATA WRAPPER multidb_llm OPTIONS (model 'm');
SELECT * FROM multidb.ask('hello', :'session');
DROP SERVER llm_second;
-- the only LLM server is used; it is unreachable here, and the failed ask is still recorded
SELECT sqlstate_of(format('SELECT * FROM multidb.ask(%L, %L)', 'who is unreachable?', :'session')) ~ '^38000: ' AS llm_failed;
SELECT question, status, error IS NOT NULL AS has_error FROM multidb.query_history WHERE question = 'who is unreachable?';
SELECT role, content FROM multidb.chat_messages WHERE session_id = :'session' ORDER BY id LIMIT 1;
-- the one LLM server is remembered between this session's asks, and forgotten when the servers change
CREATE SERVER llm_third FOREIGN DATA WRAPPER multidb_llm OPTIONS (model 'm');
SELECT * FROM multidb.ask('hello', :'session');
DROP SERVER llm_third;
ALTER SERVER llm_ok RENAME TO llm_renamed;
SELECT sqlstate_of(format('SELECT * FROM multidb.ask(%L, %L)', 'renamed, still unreachable?', :'session')) ~ '^38000: ' AS llm_failed;
ALTER SERVER llm_renamed RENAME TO llm_ok;
-- schemas are read through the fan-out and cached (a failed ask's reads roll back with it)
SELECT multidb.refresh_schema('beta');
SELECT connection, schema->'tables'->0->>'name' AS first_table, length(fingerprint) FROM multidb.schema_cache ORDER BY 1;
SELECT multidb.clear_cache();

SELECT multidb.drop_session(:'session');
SELECT count(*) FROM multidb.chat_messages WHERE session_id = :'session';
SELECT regexp_replace(sqlstate_of(format('SELECT multidb.drop_session(%L)', :'session')), '[0-9a-f-]{36}', '<session>');
SET client_min_messages = warning;
DROP SERVER llm_ok CASCADE;
DROP ROLE multidb_regress_reader;

-- The history record has one producer (src/core/history_record.cpp, history_record_keys()) and one
-- consumer: _record_ask reads every key the producer writes.
SELECT k AS key_not_read
  FROM unnest(ARRAY['session_id', 'question', 'status', 'error', 'plan', 'attempts', 'databases_used', 'row_counts',
                    'timings_ms', 'answer', 'llm_ms', 'exec_ms', 'total_ms', 'cached', 'model', 'prompt_tokens',
                    'completion_tokens']) k,
       (SELECT prosrc FROM pg_proc WHERE oid = 'multidb._record_ask(jsonb)'::regprocedure) f(src)
 WHERE position(format('record->>%L', k) IN src) = 0 AND position(format('record->%L', k) IN src) = 0;
