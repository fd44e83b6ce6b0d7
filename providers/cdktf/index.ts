import type {
  ApplyOutcome,
  ApplyRequest,
  PlanOutcome,
  PlanRequest,
  Problem,
  Provider,
  ProviderContext,
  ProviderFactory,
  UnitDefinition,
} from '../../engine/provider-kit.ts';
import { createTerraformTools, TERRAFORM_STATE_DIR_CACHES, terraformSettings } from '../terraform/index.ts';
import { cdktfReads } from './reads.ts';
import { findSynthesized, synthesize, type SynthOptions, type SynthResult } from './synth.ts';
import { pointAtTypeScript, pointWarningsAtTypeScript } from './terraform-errors.ts';
import { validateUnit } from './validate.ts';

export { entryOf } from './app.ts';
export { BUNDLED_PACKAGES } from './modules.ts';
export { validateUnit } from './validate.ts';
export { findSynthesized, OUT_FOLDER, synthesize, type SynthOptions, type SynthResult } from './synth.ts';

/**
 * CDKTF stacks: a TypeScript program that synthesizes Terraform JSON.
 *
 * plan:  synthesize into `<workdir>/cdktf.out`, then plan the selected stack's
 *        folder with the Terraform tooling (init, plan, show, masking), or
 *        its destruction (`RunRequest.destroy`, the last applied code).
 * apply: apply that same folder; it is still there because the engine keeps
 *        the workdir between plan and apply. Only if it is gone is the app
 *        synthesized again (the saved plan still decides what is applied).
 *
 * Terraform's errors and warnings about the synthesized cdk.tf.json are
 * pointed back at the TypeScript line that created the block (terraform-errors.ts).
 *
 * Error codes: E_CDKTF_SYNTH (the stack does not compile or throws; names
 * file:line:column), E_CDKTF_VERSION_MISMATCH, E_CDKTF_IMPORT_PACKAGE,
 * E_CDKTF_IMPORT_FILE, E_CDKTF_IMPORT_OUTSIDE, E_CDKTF_IMPORT_EXPORT,
 * E_CDKTF_IMPORT_FORMAT (see synth-errors.ts), E_CDKTF_ENTRY,
 * E_CDKTF_MANIFEST, E_CDKTF_STACK, E_CDKTF_LOCKFILE, E_CDKTF_INSTALL;
 * E_UNDECLARED_VARIABLE (a `vars`/`secretVars` entry the synthesized stack
 * does not declare: its variables are known only after synthesis, so this is
 * checked at plan time, not by `validate`); everything else comes from Terraform.
 */
export const createCdktfProvider: ProviderFactory = (context: ProviderContext): Provider => {
  const settings = terraformSettings(context);
  const terraform = createTerraformTools(context, settings);

  const synthOptions = (request: PlanRequest | ApplyRequest): SynthOptions => ({
    unit: request.unit,
    workdir: request.workdir,
    repoDir: request.repoDir,
    installRoot: context.installRoot,
    stateDir: context.config.stateDir,
    timeoutMs: settings.timeoutMs,
    signal: request.signal,
    log: request.log,
    config: context.config,
  });

  return {
    // The synthesized configuration is planned with `-destroy` like a Terraform stack's.
    canDestroy: true,

    async validate(unit: UnitDefinition, unitDir: string): Promise<Problem[]> {
      return validateUnit(unit, unitDir);
    },

    reads: cdktfReads,
    stateDirCaches: TERRAFORM_STATE_DIR_CACHES,

    async plan(request: PlanRequest): Promise<PlanOutcome> {
      const synthesized = await synthesize(synthOptions(request));
      const outcome = await terraform.planDirectory(request, synthesized.stackDir).catch(async (error: unknown) => {
        throw await pointAtTypeScript(error, synthesized.stackDir);
      });
      const warnings = [...synthesized.warnings, ...(await pointWarningsAtTypeScript(outcome.warnings ?? [], synthesized.stackDir))];
      return { ...outcome, ...(warnings.length > 0 ? { warnings } : {}) };
    },

    async apply(request: ApplyRequest): Promise<ApplyOutcome> {
      let synthesized: SynthResult | null = await findSynthesized(synthOptions(request));
      if (!synthesized) {
        request.log.warn({}, 'the synthesized stack is gone; synthesizing it again before applying the saved plan');
        synthesized = await synthesize(synthOptions(request));
      }
      const stackDir = synthesized.stackDir;
      return terraform.applyDirectory(request, stackDir).catch(async (error: unknown) => {
        throw await pointAtTypeScript(error, stackDir);
      });
    },

    async outputs(request: PlanRequest) {
      const synthesized = (await findSynthesized(synthOptions(request))) ?? (await synthesize(synthOptions(request)));
      return terraform.outputsOf(request, synthesized.stackDir);
    },
  };
};
