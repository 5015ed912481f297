/**
 * What the official conformance suite's SERVER scenarios say about the Portcullis MCP endpoint, and
 * why. The suite was written against its "everything" reference server: most feature scenarios call
 * fixture tools (`test_simple_text`, `test_sampling` …), prompts or resources that a Portcullis
 * endpoint does not have, because its built-in tools are whoami and a per-user task list. Those
 * scenarios do not apply; the ones that exercise the transport and the protocol core must pass.
 *
 * test/conformance/official-server.test.ts runs the suite and holds every scenario to this table
 * (a `not applicable` scenario must fail only for its stated reason); scripts/gen-conformance-readme.ts
 * renders it into test/conformance/README.md.
 */

/** The runs: the `latest` release (0.1.16, 2025-06-18 and 2025-11-25 scenarios) and the 0.2.0 alpha per revision. */
export const SERVER_RUNS = [
  { release: 'stable', specVersion: null },
  { release: 'alpha', specVersion: '2025-03-26' },
  { release: 'alpha', specVersion: '2025-06-18' },
  { release: 'alpha', specVersion: '2025-11-25' },
  { release: 'alpha', specVersion: '2026-07-28' },
] as const;

export type ServerRun = (typeof SERVER_RUNS)[number];
export const runLabel = (run: ServerRun): string => (run.specVersion === null ? '0.1.16' : `alpha ${run.specVersion}`);

export type ScenarioExpectation =
  | { expect: 'pass'; why: string }
  /** Fails, but only with messages matching `failsWith`; the checks in `mustPass` still pass. */
  | { expect: 'not applicable'; why: string; failsWith: RegExp; mustPass?: string[] };

const noFixtureTool = (what: string): ScenarioExpectation => ({
  expect: 'not applicable',
  why: `calls the reference server's fixture tool ${what}; the built-in tools are whoami and the task list`,
  failsWith: /Tool \S+ not found|Tool '\S+' not found/,
});
const noMethod = (what: string): ScenarioExpectation => ({
  expect: 'not applicable',
  why: `needs ${what}, which the endpoint does not offer (answered -32601 Method not found)`,
  failsWith: /Method not found/,
});

export const SERVER_SCENARIOS: Record<string, ScenarioExpectation> = {
  'server-initialize': { expect: 'pass', why: 'initialize with a bearer token: capabilities, server info, a visible-ASCII session id' },
  'server-session-lifecycle': { expect: 'pass', why: 'legacy sessions: initialized accepted, DELETE ends the session, a terminated session answers 404' },
  ping: { expect: 'pass', why: 'ping answers an empty result' },
  'tools-list': { expect: 'pass', why: 'tools/list: valid names, deterministic order, schema-valid wire format' },
  'server-sse-multiple-streams': { expect: 'pass', why: 'several concurrent POST streams on one session' },
  'server-sse-polling': { expect: 'pass', why: 'SSE streams work; the priming-event and retry-field checks are only recommendations (WARNING)' },
  'dns-rebinding-protection': { expect: 'pass', why: 'RS-24: a foreign Host/Origin is refused with 403, the endpoint\'s own origin is accepted' },
  'http-header-validation': { expect: 'pass', why: 'SEP-2243: malformed MCP headers are rejected with the right error code' },
  'input-required-result-unsupported-methods': { expect: 'pass', why: 'no InputRequiredResult on requests that cannot carry one' },
  'input-required-result-validate-input': { expect: 'pass', why: 'invalid input responses are rejected' },
  'input-required-result-ignore-extra-params': { expect: 'pass', why: 'probe only; the SHOULD check is a WARNING because its fixture tool is missing' },
  'input-required-result-missing-input-response': { expect: 'pass', why: 'probe only; the SHOULD check is a WARNING because no tool asks for input' },
  'sep-2164-resource-not-found': { expect: 'pass', why: 'no empty contents for an unknown resource; error code and data.uri are SHOULDs (WARNING: there are no resources at all)' },
  'server-stateless': {
    expect: 'not applicable',
    why: 'the request _meta validation checks pass; the rest needs the diagnostic tools test_missing_capability, test_streaming_elicitation and test_logging_tool',
    failsWith: /Not testable: server does not list the diagnostic tool/,
    mustPass: ['sep-2575-request-meta-invalid-missing-meta', 'sep-2575-http-server-meta-invalid-400', 'sep-2575-request-meta-invalid-missing-protocol-version'],
  },
  caching: {
    expect: 'not applicable',
    why: 'tools/list carries the caching hints (passes); prompts and resources lists do not exist',
    failsWith: /Method not found/,
    mustPass: ['sep-2549-tools-list-caching-hints'],
  },
  'http-custom-header-server-validation': {
    expect: 'not applicable',
    why: 'needs a tool with x-mcp-header annotations; the built-in tools have none',
    failsWith: /Not testable: server exposes no tool with x-mcp-header/,
  },
  'logging-set-level': noMethod('logging/setLevel (the logging capability)'),
  'completion-complete': noMethod('completion/complete (argument completion for prompts and resource templates)'),
  'tools-call-with-logging': noMethod('logging/setLevel before its fixture tool'),
  'prompts-list': noMethod('prompts'),
  'prompts-get-simple': noMethod('prompts'),
  'prompts-get-with-args': noMethod('prompts'),
  'prompts-get-embedded-resource': noMethod('prompts'),
  'prompts-get-with-image': noMethod('prompts'),
  'resources-list': noMethod('resources'),
  'resources-read-text': noMethod('resources'),
  'resources-read-binary': noMethod('resources'),
  'resources-templates-read': noMethod('resources'),
  'resources-subscribe': noMethod('resources'),
  'resources-unsubscribe': noMethod('resources'),
  'input-required-result-non-tool-request': noMethod('an InputRequiredResult on prompts/get'),
  'tools-call-simple-text': noFixtureTool('test_simple_text (tools/call of the built-in tools is covered by test/e2e/)'),
  'tools-call-image': noFixtureTool('test_image_content'),
  'tools-call-audio': noFixtureTool('test_audio_content'),
  'tools-call-embedded-resource': noFixtureTool('test_embedded_resource'),
  'tools-call-mixed-content': noFixtureTool('test_multiple_content_types'),
  'tools-call-error': noFixtureTool('test_error_handling'),
  'tools-call-with-progress': noFixtureTool('test_tool_with_progress'),
  'tools-call-sampling': noFixtureTool('test_sampling'),
  'tools-call-elicitation': noFixtureTool('test_elicitation'),
  'elicitation-sep1034-defaults': noFixtureTool('test_elicitation_sep1034_defaults'),
  'elicitation-sep1330-enums': noFixtureTool('test_elicitation_sep1330_enums'),
  'json-schema-2020-12': noFixtureTool('json_schema_2020_12_tool'),
  'input-required-result-basic-elicitation': noFixtureTool('test_input_required_result_elicitation'),
  'input-required-result-basic-sampling': noFixtureTool('test_input_required_result_sampling'),
  'input-required-result-basic-list-roots': noFixtureTool('test_input_required_result_list_roots'),
  'input-required-result-capability-check': noFixtureTool('test_input_required_result_capabilities'),
  'input-required-result-multiple-input-requests': noFixtureTool('test_input_required_result_multiple_inputs'),
  'input-required-result-request-state': noFixtureTool('test_input_required_result_request_state'),
  'input-required-result-result-type': noFixtureTool('test_input_required_result_elicitation'),
  'input-required-result-multi-round': {
    expect: 'not applicable',
    why: 'needs a tool that asks the client for input over several rounds (SEP-2322); no built-in tool does',
    failsWith: /Expected InputRequiredResult/,
  },
  'input-required-result-tampered-state': {
    expect: 'not applicable',
    why: 'needs an InputRequiredResult with requestState first (SEP-2322); no built-in tool returns one',
    failsWith: /Prerequisite failed/,
  },
};
