// A small AWS network and one instance, written with CDKTF.
//
// Plumbline runs this file to synthesize Terraform JSON, then plans it like any
// other stack. It plans without an AWS account: the provider is given dummy
// credentials and told to skip every call that would check them. Applying it
// needs real credentials (see stack.yaml).
//
// Import each resource from its own `@cdktf/provider-aws/lib/<resource>`
// module: the package root loads every AWS resource class and makes each
// synthesis several times slower.
import { App, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';

/** An Amazon Linux 2023 image in us-east-1; change it with the region. */
const AMI_ID = 'ami-0c02fb55956c7d316';

class NetworkStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);

    // Set from `vars` in stack.yaml; the default keeps a bare `terraform plan` working.
    const region = new TerraformVariable(this, 'region', {
      type: 'string',
      default: 'us-east-1',
      description: 'AWS region to deploy into',
    });
    const environment = new TerraformVariable(this, 'environment', {
      type: 'string',
      default: 'demo',
      description: 'Name prefix and Environment tag of every resource',
    });

    new AwsProvider(this, 'aws', {
      region: region.stringValue,
      // Placeholders so a plan needs no account; real credentials come from the
      // daemon's environment (AWS_PROFILE, AWS_ACCESS_KEY_ID...) when you remove them.
      accessKey: 'plan-only-placeholder',
      secretKey: 'plan-only-placeholder',
      skipCredentialsValidation: true,
      skipRequestingAccountId: true,
      skipMetadataApiCheck: 'true',
      skipRegionValidation: true,
      defaultTags: [{ tags: { Environment: environment.stringValue, ManagedBy: 'plumbline' } }],
    });

    const vpc = new Vpc(this, 'vpc', {
      cidrBlock: '10.42.0.0/16',
      enableDnsHostnames: true,
      tags: { Name: `${environment.stringValue}-vpc` },
    });

    const subnet = new Subnet(this, 'subnet', {
      vpcId: vpc.id,
      cidrBlock: '10.42.1.0/24',
      tags: { Name: `${environment.stringValue}-subnet` },
    });

    const web = new SecurityGroup(this, 'web', {
      name: `${environment.stringValue}-web`,
      description: 'HTTPS in, anything out',
      vpcId: vpc.id,
      ingress: [{ description: 'HTTPS', protocol: 'tcp', fromPort: 443, toPort: 443, cidrBlocks: ['0.0.0.0/0'] }],
      egress: [{ description: 'Anything', protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }],
    });

    const server = new Instance(this, 'server', {
      ami: AMI_ID,
      instanceType: 't3.micro',
      subnetId: subnet.id,
      vpcSecurityGroupIds: [web.id],
      tags: { Name: `${environment.stringValue}-server` },
    });

    new TerraformOutput(this, 'vpc_id', { value: vpc.id });
    new TerraformOutput(this, 'subnet_id', { value: subnet.id });
    new TerraformOutput(this, 'instance_private_ip', { value: server.privateIp });
  }
}

const app = new App();
new NetworkStack(app, 'network');
app.synth();
