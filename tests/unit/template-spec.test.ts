// template.yaml against AWS's CloudFormation resource specification: what `sam deploy` would
// refuse (or silently ignore) is caught here, where no AWS account is at hand.
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SpecDatabase } from '@aws-cdk/service-spec-types';
import { readTemplateDocument, type JsonObject } from '../../local/template.ts';
import { checkTemplate } from '../support/cloudformation-spec.ts';

const templatePath = new URL('../../template.yaml', import.meta.url).pathname;
let spec: SpecDatabase;

beforeAll(() => {
  spec = loadAwsServiceSpecSync();
});

/** A template of the given resources (long-form intrinsics), with one parameter. */
function templateOf(resources: string): JsonObject {
  return { Parameters: { Stage: { Type: 'String' } }, Resources: parse(resources) as JsonObject };
}

const queue = `
  Queue:
    Type: AWS::SQS::Queue
    Properties: { VisibilityTimeout: 60 }`;

describe('template.yaml', () => {
  it('uses only resource types, properties and attributes that CloudFormation has', () => {
    expect(checkTemplate(readTemplateDocument(templatePath), spec)).toEqual([]);
  });

  it('is really checked: a misspelt property deep inside the pipe is found', () => {
    const document = readTemplateDocument(templatePath);
    const pipe = Object.values(document.Resources as Record<string, JsonObject>).find((resource) => resource.Type === 'AWS::Pipes::Pipe')!;
    const stream = ((pipe.Properties as JsonObject).SourceParameters as JsonObject).DynamoDBStreamParameters as JsonObject;
    stream.MaximumBatchingWindowInSecond = stream.MaximumBatchingWindowInSeconds ?? 1;
    delete stream.MaximumBatchingWindowInSeconds;
    expect(checkTemplate(document, spec)).toEqual([
      expect.objectContaining({ at: expect.stringMatching(/SourceParameters\.DynamoDBStreamParameters\.MaximumBatchingWindowInSecond$/) }),
    ]);
  });
});

describe('the specification check', () => {
  it('finds a property a resource type does not have', () => {
    const findings = checkTemplate(templateOf(`${queue}\n  Other:\n    Type: AWS::SQS::Queue\n    Properties: { VisibilityTimout: 60 }`), spec);
    expect(findings).toEqual([{ at: 'Resources.Other.Properties.VisibilityTimout', problem: expect.stringMatching(/is not a property here; known: .*VisibilityTimeout/) }]);
  });

  it('finds a missing required property, at any depth', () => {
    const findings = checkTemplate(
      templateOf(`
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{ AttributeName: id }]`),
      spec,
    );
    expect(findings).toEqual(
      expect.arrayContaining([
        { at: 'Resources.Table.Properties.KeySchema', problem: 'is required' },
        { at: 'Resources.Table.Properties.AttributeDefinitions[0].AttributeType', problem: 'is required' },
      ]),
    );
  });

  it('checks the typed side of a property that may also be free JSON', () => {
    // KeySchema is a list of KeySchema objects or, for older templates, any JSON.
    const findings = checkTemplate(
      templateOf(`
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{ AttributeName: id, KeyTyp: HASH }]`),
      spec,
    );
    expect(findings).toEqual(
      expect.arrayContaining([
        { at: 'Resources.Table.Properties.KeySchema[0].KeyTyp', problem: expect.stringMatching(/^is not a property here/) },
        { at: 'Resources.Table.Properties.KeySchema[0].KeyType', problem: 'is required' },
      ]),
    );
  });

  it('finds a value of the wrong shape', () => {
    const findings = checkTemplate(
      templateOf(`
  Queue:
    Type: AWS::SQS::Queue
    Properties: { VisibilityTimeout: sixty, Tags: { team: labels } }`),
      spec,
    );
    expect(findings).toEqual([
      { at: 'Resources.Queue.Properties.VisibilityTimeout', problem: 'must be an integer, not "sixty"' },
      { at: 'Resources.Queue.Properties.Tags', problem: 'must be a list, not {"team":"labels"}' },
    ]);
  });

  it('accepts what CloudFormation coerces and what only a deployment knows', () => {
    const findings = checkTemplate(
      templateOf(`
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: "60"
      QueueName: { "Fn::Sub": "\${AWS::StackName}-\${Stage}-queue" }
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [Dead, Arn] }, maxReceiveCount: 10 }
  Dead:
    Type: AWS::SQS::Queue`),
      spec,
    );
    expect(findings).toEqual([]);
  });

  it('finds an unknown resource type', () => {
    expect(checkTemplate(templateOf(`\n  Queue:\n    Type: AWS::SQS::Queu`), spec)).toEqual([
      { at: 'Resources.Queue.Type', problem: 'AWS::SQS::Queu is not a CloudFormation resource type' },
    ]);
  });

  it('finds a Ref, GetAtt or Sub that points at nothing, or at an attribute the resource lacks', () => {
    const findings = checkTemplate(
      templateOf(`${queue}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          QUEUE: { Ref: Queue }
          QUEUE_URL: { "Fn::GetAtt": [Queue, Url] }
          MISSING: { Ref: Missing }
          FN_URL: { "Fn::GetAtt": [Fn, FunctionUrl] }
          TEXT: { "Fn::Sub": "\${Queue.Arn} \${AWS::Region} \${!Literal} \${Nothing}" }
          OWN: { "Fn::Sub": ["\${Mine}", { Mine: { Ref: AlsoMissing } }] }`),
      spec,
    );
    const variables = 'Resources.Fn.Properties.Environment.Variables';
    expect(findings).toEqual([
      { at: `${variables}.QUEUE_URL.Fn::GetAtt`, problem: expect.stringMatching(/^AWS::SQS::Queue has no attribute Url; it has .*QueueUrl/) },
      { at: `${variables}.MISSING.Ref`, problem: 'refers to Missing, which is neither a parameter nor a resource' },
      { at: `${variables}.FN_URL.Fn::GetAtt`, problem: expect.stringMatching(/^AWS::Serverless::Function has no attribute FunctionUrl/) },
      { at: `${variables}.TEXT.Fn::Sub`, problem: 'refers to Nothing, which is neither a parameter nor a resource' },
      { at: `${variables}.OWN.Fn::Sub[1].Mine.Ref`, problem: 'refers to AlsoMissing, which is neither a parameter nor a resource' },
    ]);
  });
});
