// Conditions decide which resources exist and which values they get, in AWS and locally: a
// template switched by a parameter must run locally exactly as CloudFormation would build it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTemplate } from '../template.ts';

const directory = mkdtempSync(join(tmpdir(), 'template-conditions-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const document = `
Parameters:
  Endpoint: { Type: String, Default: '' }
  Mode: { Type: String, Default: simple }
Conditions:
  HasEndpoint: !Not [!Equals [!Ref Endpoint, '']]
  IsFancy: !Equals [!Ref Mode, fancy]
  FancyWithEndpoint: !And [!Condition HasEndpoint, !Condition IsFancy]
  EitherOne: !Or [!Condition HasEndpoint, !Condition IsFancy]
Resources:
  Always:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !If [IsFancy, 120, 30]
      RedrivePolicy: !If
        - HasEndpoint
        - { deadLetterTargetArn: !GetAtt OnlyWithEndpoint.Arn, maxReceiveCount: 3 }
        - !Ref AWS::NoValue
  OnlyWithEndpoint:
    Type: AWS::SQS::Queue
    Condition: HasEndpoint
  OnlyFancyWithEndpoint:
    Type: AWS::SQS::Queue
    Condition: FancyWithEndpoint
  EitherQueue:
    Type: AWS::SQS::Queue
    Condition: EitherOne
`;

let loaded = 0;
function load(parameterOverrides: Record<string, string>) {
  const path = join(directory, `template-${(loaded += 1)}.yaml`);
  writeFileSync(path, document);
  return loadTemplate(path, { stackName: 's', region: 'us-east-1', accountId: '000000000000', parameterOverrides });
}

describe('template conditions', () => {
  it('leaves out resources whose condition is false, and values Fn::If drops with AWS::NoValue', () => {
    const { queues } = load({});
    expect(queues.map((queue) => queue.logicalId)).toEqual(['Always']);
    expect(queues[0]).not.toHaveProperty('redrive');
    expect(queues[0]?.visibilityTimeoutSeconds).toBe(30);
  });

  it('builds them when the parameters make the condition true', () => {
    const { queues } = load({ Endpoint: 'https://example.test/hook' });
    expect(queues.map((queue) => queue.logicalId).sort()).toEqual(['Always', 'EitherQueue', 'OnlyWithEndpoint']);
    expect(queues.find((queue) => queue.logicalId === 'Always')?.redrive).toEqual({
      deadLetterQueue: 's-OnlyWithEndpoint',
      maxReceiveCount: 3,
    });
  });

  it('combines conditions with Fn::And, Fn::Or and Condition', () => {
    expect(load({ Mode: 'fancy' }).queues.map((queue) => queue.logicalId).sort()).toEqual(['Always', 'EitherQueue']);
    const both = load({ Endpoint: 'https://example.test/hook', Mode: 'fancy' });
    expect(both.queues.map((queue) => queue.logicalId).sort()).toEqual(['Always', 'EitherQueue', 'OnlyFancyWithEndpoint', 'OnlyWithEndpoint']);
    expect(both.queues.find((queue) => queue.logicalId === 'Always')?.visibilityTimeoutSeconds).toBe(120);
  });
});
