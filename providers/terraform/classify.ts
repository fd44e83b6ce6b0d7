import { type ErrorCode, type ExecResult, type RetryClass, secrets } from '../../engine/provider-kit.ts';
import { diagnosticsOf, formatDiagnostic, parseUiStream, presentDiagnostics, type DiagnosticView } from './diagnostics.ts';
import { repoText, type PathContext } from './repo-paths.ts';

/**
 * Stable error codes for failing terraform commands. The message is
 * Terraform's own error text (from its JSON diagnostics when the command
 * printed them, one line each), masked and with repository paths; the hint
 * says what a person should do, and where.
 */

export type TerraformStep = 'init' | 'plan' | 'show' | 'apply' | 'output';

export interface TerraformFailure {
  code: ErrorCode;
  message: string;
  hint: string;
  retry: RetryClass;
  /** The error diagnostics behind the message (empty when terraform printed none). */
  diagnostics: DiagnosticView[];
}

const NETWORK =
  /could not connect to|failed to request discovery document|dial tcp|no such host|i\/o timeout|connection refused|connection reset|network is unreachable|TLS handshake timeout|context deadline exceeded|Client\.Timeout exceeded|temporary failure in name resolution|Too Many Requests|Service Unavailable|Bad Gateway|Gateway Timeout|RequestLimitExceeded|Throttling/i;

export function classifyFailure(
  step: TerraformStep,
  result: Pick<ExecResult, 'stdout' | 'stderr' | 'exitCode'>,
  context?: PathContext,
): TerraformFailure {
  const diagnostics = presentDiagnostics(diagnosticsOf(parseUiStream(result.stdout), 'error'), context);
  const text = diagnostics.length > 0 ? diagnostics.map(formatDiagnostic).join('\n') : secrets.maskText(repoText(plainText(result), context));
  const message = text || `terraform ${step} exited with ${result.exitCode}`;
  const haystack = `${diagnostics.map((d) => d.summary).join('\n')}\n${text}`;
  const failure = classifyText(step, haystack, placeOf(diagnostics));
  return { ...failure, message, diagnostics };
}

/** ` at modules/sg/main.tf line 14 (module.sg.aws_security_group.this[1])`: the first place a person should look. */
function placeOf(diagnostics: readonly DiagnosticView[]): string {
  const first = diagnostics.find((d) => d.range) ?? diagnostics.find((d) => d.address);
  if (!first) return '';
  const file = first.range ? ` at ${first.range.filename} line ${first.range.start.line}` : '';
  return first.address ? `${file} (${first.address})` : file;
}

function classifyText(step: TerraformStep, haystack: string, at: string): Omit<TerraformFailure, 'message' | 'diagnostics'> {
  if (/Error acquiring the state lock/i.test(haystack)) {
    return {
      code: 'E_STATE_LOCKED',
      retry: 'waiting',
      hint: 'another terraform run holds the state lock; Plumbline tries again later. If no run is active, release it with `terraform force-unlock <ID>` (the lock ID is in the message)',
    };
  }
  if (/Saved plan is stale|Saved plan does not match the given state|Saved plan is for a different/i.test(haystack)) {
    return {
      code: 'E_PLAN_STALE',
      retry: 'waiting',
      hint: 'the state changed after this plan was made; Plumbline plans again and the new plan needs its own approval',
    };
  }
  if (NETWORK.test(haystack)) {
    return {
      code: 'E_TERRAFORM_NETWORK',
      retry: 'transient',
      hint: 'terraform could not reach a registry, provider mirror or cloud API; Plumbline retries. If it persists, check the network and the provider_installation block of the Terraform CLI config',
    };
  }
  switch (step) {
    case 'init':
      return {
        code: 'E_TERRAFORM_INIT',
        retry: 'stalled',
        hint: /not found in any of the search locations|Failed to query available provider packages|Failed to install provider/i.test(haystack)
          ? 'a required provider is not available: add it to the provider mirror named in the Terraform CLI config (terraform.cliConfigFile in plumbline.yaml) or fix required_providers, then commit'
          : `fix the Terraform configuration (syntax, required_providers, modules, backend)${at} and commit`,
      };
    case 'plan':
    case 'show':
      return {
        code: 'E_TERRAFORM_PLAN',
        retry: 'stalled',
        hint: `fix the Terraform configuration${at} or the stack variables named in the message, and commit`,
      };
    case 'apply':
      return {
        code: 'E_TERRAFORM_APPLY',
        retry: 'stalled',
        hint: `terraform stopped part-way and recorded what it did in the state: fix the cause in the message${at} (configuration, permissions, quotas) and commit; the next plan starts from that state`,
      };
    case 'output':
      return {
        code: 'E_TERRAFORM_OUTPUT',
        retry: 'transient',
        hint: 'the apply finished but its outputs could not be read; check that the state is reachable',
      };
  }
}

/** Terraform's human error text, when it printed no JSON diagnostics (CLI config problems). */
function plainText(result: Pick<ExecResult, 'stdout' | 'stderr'>): string {
  const text = result.stderr.trim() || result.stdout.trim();
  return text
    .split('\n')
    .filter((line) => !line.startsWith('{'))
    .map((line) => line.replace(/^[│╷╵]\s?/u, '').trimEnd())
    .filter((line, i, all) => line !== '' || (i > 0 && all[i - 1] !== ''))
    .join('\n')
    .trim();
}
