import type { ManifestFile, ManifestPart } from '../../engine/provider-kit.ts';
import { configFileNames } from './config-files.ts';

/**
 * `stack.yaml`, in a folder anywhere under `stacks/`: Terraform stacks
 * (`kind: terraform`, the `.tf` files of the folder) and CDKTF stacks
 * (`kind: cdktf`, providers/cdktf/manifest.ts). Both pass Terraform variables.
 */
export const STACK_MANIFEST: ManifestFile = {
  type: 'stack',
  folder: 'stacks',
  fileName: 'stack.yaml',
  variableNames: { pattern: /^[A-Za-z_][A-Za-z0-9_-]*$/, rule: 'letters, digits, "_" and "-"' },
  secretVars: true,
};

/** A Terraform stack has no fields of its own: it is the `.tf` files of its folder. */
export type TerraformSpec = Record<string, never>;

export const terraformManifest: ManifestPart<TerraformSpec> = {
  file: STACK_MANIFEST,
  fields: {},
  async read({ raw, folder, report }) {
    if (raw.entry !== undefined) {
      report.at(['entry'], 'only cdktf stacks have an entry; a terraform stack is the .tf files of its folder');
    }
    if (raw.stackName !== undefined) report.at(['stackName'], 'only cdktf stacks have a stackName');
    if ((await configFileNames(folder.dir)).length === 0) {
      report.at(['kind'], `a terraform stack needs at least one *.tf or *.tf.json file in ${folder.path} (found none)`);
    }
    return {};
  },
};
