import { readFileSync } from 'node:fs';
import type { SecretRegistry } from '../engine/provider-kit.ts';
import { parseUiStream, type UiMessage } from '../providers/terraform/diagnostics.ts';
import { maskPlan } from '../providers/terraform/mask.ts';
import { normalizePlan } from '../providers/terraform/normalize.ts';
import { parsePlanJson, type PlanJson } from '../providers/terraform/plan-schema.ts';
import { renderPlan } from '../providers/terraform/render.ts';
import type { PathContext } from '../providers/terraform/repo-paths.ts';

/**
 * Recorded real terraform output for the terraform provider's unit tests, in
 * providers/terraform/fixtures. The configurations are in fixtures/src (a repository laid out with shared modules, a
 * terraform_data stack in two versions, a stack whose secrets are rotated, and
 * files with syntax errors). To record them again, from the
 * repository root, with terraform 1.11 and the hashicorp/aws 5.100.0 mirror in
 * /opt/tf-plugins (everything is planned offline):
 *
 *   F=providers/terraform/fixtures; W=/tmp/plumbline-fixtures
 *   rm -rf $W && mkdir -p $W/artifacts $W/nested && cp -r $F/src/repo $W/tree
 *   cp $F/src/undeclared.tfvars.json $W/artifacts/plumbline.tfvars.json
 *   printf 'provider_installation {\n  filesystem_mirror {\n    path = "/opt/tf-plugins"\n  }\n}\n' > $W/cli.tfrc
 *   export TF_CLI_CONFIG_FILE=$W/cli.tfrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
 *   (cd $W/tree/stacks/prod/edge && terraform init -json -no-color > $OLDPWD/$F/init-stream.jsonl; \
 *     terraform plan -json -no-color -var-file=$W/artifacts/plumbline.tfvars.json > $OLDPWD/$F/edge-plan-stream.jsonl)
 *   (cd $W/tree/stacks/prod/motd && terraform init -no-color > /dev/null; terraform plan -json -no-color > $OLDPWD/$F/motd-plan-stream.jsonl)
 *   (cd $W/tree/stacks/prod/web && terraform init -no-color > /dev/null && terraform plan -no-color -out=tfplan > /dev/null \
 *     && terraform show -json tfplan > $OLDPWD/$F/aws-module-plan.json)
 *   (cd $W/nested && cp $OLDPWD/$F/src/nested/v1/main.tf . && terraform init -no-color > /dev/null \
 *     && terraform apply -auto-approve -no-color -var token=Nested-Old-Tok-77aa > /dev/null \
 *     && cp $OLDPWD/$F/src/nested/v2/main.tf . && terraform plan -no-color -var token=Nested-New-Tok-88bb -out=tfplan > /dev/null \
 *     && terraform show -json tfplan > $OLDPWD/$F/nested-plan.json)
 *   (mkdir $W/rotated && cd $W/rotated && cp $OLDPWD/$F/src/rotated/main.tf . && terraform init -no-color > /dev/null \
 *     && terraform apply -auto-approve -no-color -var password=Rotated-Old-Pw-31ce -var api_token=Rotated-Old-Tok-5a0d > /dev/null \
 *     && terraform plan -no-color -var password=Rotated-New-Pw-64bf -var api_token=Rotated-New-Tok-97e2 -out=tfplan > /dev/null \
 *     && terraform show -json tfplan > $OLDPWD/$F/rotated-plan.json)
 *   (cd $F/src && terraform fmt -check -list=false -write=false -no-color broken/main.tf broken/network.tf 2> ../fmt-errors.txt)
 *
 * (The edge and motd plans fail on purpose, and so does the fmt of broken/.) The older fixtures (data-*,
 * sensitive-plan, aws-plan) come from test/fixtures/terraform/record.sh.
 */

export function fixtureText(name: string): string {
  return readFileSync(new URL(`../providers/terraform/fixtures/${name}`, import.meta.url), 'utf8');
}

export function planFixture(name: string): PlanJson {
  return parsePlanJson(fixtureText(name));
}

/** Everything a plan turns into, as one text to search for secrets: the stored JSON, the document and the rendering. */
export function everythingShown(plan: PlanJson, registry: SecretRegistry): string {
  const masked = maskPlan(plan, registry);
  const document = normalizePlan(plan, registry);
  return [JSON.stringify(masked), JSON.stringify(document), renderPlan(document, registry)].join('\n');
}

export function streamFixture(name: string): UiMessage[] {
  return parseUiStream(fixtureText(name));
}

/** Where the streams above were recorded: the unit folders of $W/tree. */
export const RECORDED_RUN = '/tmp/plumbline-fixtures';

export function recordedContext(unitPath: string): PathContext {
  const workdir = `${RECORDED_RUN}/tree/${unitPath}`;
  return {
    unitPath,
    workdir,
    configDir: workdir,
    repoDir: '/var/lib/plumbline/snapshots/0123abcd',
    replacements: [[`${RECORDED_RUN}/artifacts/plumbline.tfvars.json`, `${unitPath}/stack.yaml`]],
  };
}
