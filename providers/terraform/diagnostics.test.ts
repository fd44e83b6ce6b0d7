import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MASK, SecretRegistry } from '../../engine/provider-kit.ts';
import { classifyFailure } from './classify.ts';
import { diagnosticsOf, formatDiagnostic, presentDiagnostics } from './diagnostics.ts';
import { repoPath, repoText, type PathContext } from './repo-paths.ts';
import { fixtureText, recordedContext, RECORDED_RUN, streamFixture } from '../../testkit/terraform-fixtures.ts';

/** Recorded streams: see testkit/terraform-fixtures.ts for how they were made. */
const edge = streamFixture('edge-plan-stream.jsonl');
const edgeContext = recordedContext('stacks/prod/edge');

describe('presentDiagnostics (recorded plan of a stack whose modules fail)', () => {
  const errors = presentDiagnostics(diagnosticsOf(edge, 'error'), edgeContext, new SecretRegistry());

  it('keeps the address, the repository-relative file, line and column', () => {
    assert.deepEqual(errors[0], {
      severity: 'error',
      summary: '"not-a-cidr" is not a valid CIDR block: invalid CIDR address: not-a-cidr',
      address: 'module.edge_sg.aws_security_group.this[1]',
      range: { filename: 'modules/security-group/main.tf', start: { line: 19, column: 38 } },
    });
    assert.equal(
      formatDiagnostic(errors[0]!),
      '"not-a-cidr" is not a valid CIDR block: invalid CIDR address: not-a-cidr (with module.edge_sg.aws_security_group.this[1], on modules/security-group/main.tf line 19, column 38)',
    );
  });

  it('puts them in file order (terraform printed [2] before [1])', () => {
    const raw = diagnosticsOf(edge, 'error').map((d) => d.address ?? d.range?.filename);
    assert.deepEqual(raw, [
      '../../../modules/sizes/main.tf',
      '../../../modules/sizes/main.tf',
      'module.edge_sg.aws_security_group.this[2]',
      'module.edge_sg.aws_security_group.this[1]',
    ]);
    assert.deepEqual(
      errors.map((d) => d.address ?? d.range?.filename),
      ['module.edge_sg.aws_security_group.this[1]', 'module.edge_sg.aws_security_group.this[2]', 'modules/sizes/main.tf'],
    );
  });

  it('shows a repeated diagnostic once (a failing precondition per count instance)', () => {
    assert.equal(errors.filter((d) => d.summary === 'Resource precondition failed').length, 1);
    assert.equal(diagnosticsOf(edge, 'error').filter((d) => d.summary === 'Resource precondition failed').length, 2);
  });

  it('orders addresses by their index as numbers', () => {
    const at = (address: string) => ({ severity: 'error', summary: 'x', address, range: { filename: 'main.tf', start: { line: 1, column: 1 } } });
    const sorted = presentDiagnostics([at('a.b[10]'), at('a.b[9]'), at('a.b[2]')], undefined, new SecretRegistry());
    assert.deepEqual(sorted.map((d) => d.address), ['a.b[2]', 'a.b[9]', 'a.b[10]']);
  });

  it('names the stack manifest instead of the var file Plumbline wrote', () => {
    const warnings = presentDiagnostics(diagnosticsOf(edge, 'warning'), edgeContext, new SecretRegistry()).map(formatDiagnostic);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /^Value for undeclared variable: The root module does not declare a variable named "environment" but a value was found in file "stacks\/prod\/edge\/stack\.yaml"/);
    for (const w of warnings) assert.ok(!w.includes(RECORDED_RUN), w);
  });

  it('rewrites relative paths quoted in a detail', () => {
    const [error] = presentDiagnostics(diagnosticsOf(streamFixture('motd-plan-stream.jsonl'), 'error'), recordedContext('stacks/prod/motd'), new SecretRegistry());
    assert.equal(error!.range!.filename, 'modules/templates/main.tf');
    assert.match(error!.detail!, /no file exists at "modules\/templates\/motd\.txt"/);
  });

  it('masks secrets in every field', () => {
    const registry = new SecretRegistry();
    registry.add('Diag-Secret-3391');
    const [view] = presentDiagnostics(
      [{ severity: 'error', summary: 'bad Diag-Secret-3391', detail: 'value Diag-Secret-3391', address: 'x["Diag-Secret-3391"]' }],
      undefined,
      registry,
    );
    assert.deepEqual(view, { severity: 'error', summary: `bad ${MASK}`, detail: `value ${MASK}`, address: `x["${MASK}"]` });
  });
});

describe('classifyFailure with the recorded plan', () => {
  const failure = classifyFailure('plan', { stdout: fixtureText('edge-plan-stream.jsonl'), stderr: '', exitCode: 1 }, edgeContext);

  it('says where: each error on its line, the first place in the hint', () => {
    assert.equal(failure.code, 'E_TERRAFORM_PLAN');
    assert.deepEqual(failure.message.split('\n'), [
      '"not-a-cidr" is not a valid CIDR block: invalid CIDR address: not-a-cidr (with module.edge_sg.aws_security_group.this[1], on modules/security-group/main.tf line 19, column 38)',
      '"also-bad" is not a valid CIDR block: invalid CIDR address: also-bad (with module.edge_sg.aws_security_group.this[2], on modules/security-group/main.tf line 19, column 38)',
      'Resource precondition failed (on modules/sizes/main.tf line 12, column 23): Every size must be positive.',
    ]);
    assert.match(failure.hint, /at modules\/security-group\/main\.tf line 19 \(module\.edge_sg\.aws_security_group\.this\[1\]\)/);
    assert.equal(failure.diagnostics.length, 3);
  });

  it('leaves warnings out of an error', () => {
    assert.ok(!failure.message.includes('undeclared variable'));
  });
});

describe('repository paths', () => {
  const context: PathContext = {
    unitPath: 'stacks/prod/vpc',
    workdir: '/state/runs/r1/tree/stacks/prod/vpc',
    configDir: '/state/runs/r1/tree/stacks/prod/vpc',
    repoDir: '/state/snapshots/abc',
  };

  it('maps terraform file names relative to where it ran', () => {
    assert.equal(repoPath('main.tf', context), 'stacks/prod/vpc/main.tf');
    assert.equal(repoPath('../../../modules/vpc/main.tf', context), 'modules/vpc/main.tf');
    assert.equal(repoPath('.terraform/modules/x/main.tf', context), 'stacks/prod/vpc/.terraform/modules/x/main.tf');
    assert.equal(repoPath('/state/snapshots/abc/modules/vpc/main.tf', context), 'modules/vpc/main.tf');
  });

  it('names the var file Plumbline wrote as the stack manifest', () => {
    const withVarFile = { ...context, replacements: [['/state/runs/r1/artifacts/plumbline.tfvars.json', 'stacks/prod/vpc/stack.yaml']] as const };
    assert.equal(repoPath('/state/runs/r1/artifacts/plumbline.tfvars.json', withVarFile), 'stacks/prod/vpc/stack.yaml');
  });

  it('maps a synthesized stack folder inside the unit', () => {
    const cdktf = { ...context, configDir: `${context.workdir}/cdktf.out/stacks/net` };
    assert.equal(repoPath('cdk.tf.json', cdktf), 'stacks/prod/vpc/cdktf.out/stacks/net/cdk.tf.json');
  });

  it('keeps a path that leaves the repository as terraform gave it', () => {
    assert.equal(repoPath('../../../../../outside/main.tf', context), '../../../../../outside/main.tf');
    assert.equal(repoPath('/opt/modules/x/main.tf', context), '/opt/modules/x/main.tf');
  });

  it('strips the run folders from text', () => {
    assert.equal(
      repoText('open /state/runs/r1/tree/stacks/prod/vpc/files/a.txt and /state/snapshots/abc/modules/vpc/b.txt', context),
      'open stacks/prod/vpc/files/a.txt and modules/vpc/b.txt',
    );
  });
});
