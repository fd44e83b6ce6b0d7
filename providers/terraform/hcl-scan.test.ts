import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findFileCalls, findInitBlocks, findModuleCalls, findTemplateFileCalls, findVariables } from './hcl-scan.ts';
import { lineIndex } from './hcl-tokens.ts';

describe('findVariables', () => {
  it('finds the variable blocks of a file, quoted or bare, never one in a comment, a string or a block', () => {
    const text = [
      'variable "environment" {',
      '  type    = string',
      '  default = "demo"',
      '}',
      '# variable "commented" {}',
      'variable region {',
      '  validation {',
      '    condition     = length(var.region) > 0',
      '    error_message = "variable \\"inside\\" {}"',
      '  }',
      '}',
      'resource "terraform_data" "x" {',
      '  input = <<-EOT',
      '    variable "heredoc" {}',
      '  EOT',
      '}',
      'variable "empty" {}',
    ].join('\n');
    assert.deepEqual(findVariables(text), [
      { name: 'environment', line: 1 },
      { name: 'region', line: 6 },
      { name: 'empty', line: 17 },
    ]);
  });
});

describe('findModuleCalls', () => {
  it('finds module blocks with their literal source and line', () => {
    const text = [
      'locals {',
      '  name = "x"',
      '}',
      '',
      'module "vpc" {',
      '  source  = "../../modules/vpc"',
      '  cidr    = "10.0.0.0/16"',
      '  subnets = { a = { cidr = "10.0.1.0/24" } }',
      '}',
      '',
      'module consul {',
      '  source  = "hashicorp/consul/aws"',
      '  version = "0.1.0"',
      '}',
    ].join('\n');
    assert.deepEqual(findModuleCalls(text), [
      { name: 'vpc', source: '../../modules/vpc', line: 5 },
      { name: 'consul', source: 'hashicorp/consul/aws', line: 11 },
    ]);
  });

  it('ignores modules in comments, strings, heredocs and nested blocks', () => {
    const text = [
      '# module "a" { source = "./a" }',
      '// module "b" { source = "./b" }',
      '/* module "c" {',
      '  source = "./c"',
      '} */',
      'resource "terraform_data" "x" {',
      '  input = "module \\"d\\" { source = \\"./d\\" }"',
      '  triggers_replace = <<-EOT',
      '    module "e" {',
      '      source = "./e"',
      '    }',
      '  EOT',
      '  module "f" {',
      '    source = "./f"',
      '  }',
      '}',
      'module "real" {',
      '  source = "./real"',
      '}',
    ].join('\n');
    assert.deepEqual(findModuleCalls(text), [{ name: 'real', source: './real', line: 17 }]);
  });

  it('leaves a source that is not a plain string undefined', () => {
    assert.deepEqual(findModuleCalls('module "m" {\n  source = "${local.base}/m"\n}\n'), [{ name: 'm', source: undefined, line: 1 }]);
  });
});

describe('findFileCalls', () => {
  it('reads the first argument of file functions', () => {
    const text = [
      'resource "aws_instance" "web" {',
      '  user_data = templatefile("${path.module}/templates/init.sh.tpl", { port = 80 })',
      '  tags      = { hash = filemd5("files/app.conf") }',
      '}',
      'locals {',
      '  policy = file(var.policy_file)',
      '  rooted = file("${path.root}/shared/motd.txt")',
      '  odd    = file("${path.cwd}/x")',
      '}',
    ].join('\n');
    assert.deepEqual(findFileCalls(text), [
      { fn: 'templatefile', argument: { kind: 'relative', base: 'module', path: 'templates/init.sh.tpl' }, line: 2 },
      { fn: 'filemd5', argument: { kind: 'literal', path: 'files/app.conf' }, line: 3 },
      { fn: 'file', argument: { kind: 'expression', text: 'var.policy_file' }, line: 6 },
      { fn: 'file', argument: { kind: 'relative', base: 'root', path: 'shared/motd.txt' }, line: 7 },
      { fn: 'file', argument: { kind: 'expression', text: '"${path.cwd}/x"' }, line: 8 },
    ]);
  });

  it('finds calls inside templates and heredocs, not in comments or plain strings', () => {
    const text = [
      '# file("${path.module}/commented.txt")',
      'locals {',
      '  a = "${file("${path.module}/in-template.txt")}"',
      '  b = "file(\\"not-a-call.txt\\")"',
      '  c = <<-EOT',
      '    #!/bin/sh',
      '    ${file("${path.module}/in-heredoc.sh")}',
      '    echo $${HOME}',
      '  EOT',
      '  d = "$${file("escaped.txt")}"',
      '}',
    ].join('\n');
    assert.deepEqual(
      findFileCalls(text).map((c) => [c.argument, c.line]),
      [
        [{ kind: 'relative', base: 'module', path: 'in-template.txt' }, 3],
        [{ kind: 'relative', base: 'module', path: 'in-heredoc.sh' }, 7],
      ],
    );
  });

  it('treats a path with more than one interpolation as an expression', () => {
    const [call] = findFileCalls('x = file("${path.module}/files/${var.name}.txt")');
    assert.deepEqual(call!.argument, { kind: 'expression', text: '"${path.module}/files/${var.name}.txt"' });
  });

  it('reads a template given as text (a .tf.json value)', () => {
    assert.deepEqual(findTemplateFileCalls('${templatefile("${path.module}/a.tpl", {})}'), [
      { fn: 'templatefile', argument: { kind: 'relative', base: 'module', path: 'a.tpl' }, line: 1 },
    ]);
  });
});

describe('lineIndex', () => {
  it('maps offsets to 1-based lines', () => {
    const line = lineIndex('a\nbc\n\nd');
    assert.deepEqual([0, 1, 2, 4, 5, 6].map(line), [1, 1, 2, 2, 3, 4]);
  });
});

describe('findInitBlocks', () => {
  const text = `
# terraform { backend "s3" {} } is a comment
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}
module "net" {
  source  = "../modules/net"
  version = var.v
  cidr    = "10.0.0.0/16"
}
provider "aws" {
  region = "eu-west-1"
}
resource "aws_vpc" "main" {}
data "http_request" "x" {}
resource "terraform_data" "y" {
  input = "changes need no init"
}
`;

  it('keeps what init reads: terraform blocks, module sources and versions, providers named or implied', () => {
    const blocks = findInitBlocks(text);
    assert.equal(blocks.terraform.length, 1);
    assert.match(blocks.terraform[0]!, /"5\.100\.0"/);
    assert.deepEqual(blocks.modules, [{ name: 'net', source: '../modules/net', version: '<expression>' }]);
    assert.deepEqual(blocks.providers, ['aws']);
    assert.deepEqual(blocks.impliedProviders, ['aws', 'http', 'terraform']);
  });

  it('is the same when only values init does not read change', () => {
    const changed = text.replace('changes need no init', 'other').replace('10.0.0.0/16', '10.1.0.0/16').replace('eu-west-1', 'us-east-1');
    assert.deepEqual(findInitBlocks(changed), findInitBlocks(text));
    assert.notDeepEqual(findInitBlocks(text.replace('5.100.0', '5.99.0')), findInitBlocks(text));
  });
});
