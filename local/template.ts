// Reads template.yaml the way CloudFormation + the SAM transform would, as far as the local
// stack needs: every resource it runs comes from here, so a wiring mistake fails locally.
import { readFileSync } from 'node:fs';
import { parse, type Tags } from 'yaml';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export interface LocalFunction {
  logicalId: string;
  name: string;
  arn: string;
  /** The TypeScript entry point (Metadata.BuildProperties.EntryPoints) and its export. */
  entryPoint: string;
  exportName: string;
  /** Metadata.BuildProperties as written: what `sam build` hands esbuild (scripts/sam-esbuild.ts). */
  buildProperties: Record<string, unknown>;
  timeoutSeconds: number;
  /** What a deployment bills by (the bench prices invocations with these). */
  memorySizeMb: number;
  architecture: 'arm64' | 'x86_64';
  environment: Record<string, string>;
  httpRoutes: LocalHttpRoute[];
  /** The rules SAM makes for the function's EventBridgeRule events. */
  rules: LocalRule[];
  schedules: { name: string; expression: string }[];
  /** SQS event source mappings (SAM `Type: SQS` events). */
  queueSources: LocalQueueSource[];
  /** How Lambda treats its asynchronous invocations (EventInvokeConfig, or Lambda's defaults). */
  asyncInvoke: AsyncInvokeConfig;
}

/** A SAM HttpApi event: its route, and the authorizer its Auth names (none: the API's default). */
export interface LocalHttpRoute {
  method: string;
  path: string;
  /** `NONE` (a public route) or one of the API's Authorizers; absent: the DefaultAuthorizer. */
  authorizer?: string;
}

/** EventInvokeConfig: retries of a failed asynchronous invocation, and where it goes after. */
export interface AsyncInvokeConfig {
  /** 0-2; Lambda's default is 2. */
  maximumRetryAttempts: number;
  /** 60-21600; Lambda's default is 6 hours. */
  maximumEventAgeSeconds: number;
  /** DestinationConfig.OnFailure, when it is an SQS queue: the queue's name. */
  onFailureQueue?: string;
}

/**
 * A function (SAM's EventBridgeRule events), or an SQS queue or an API destination (targets of
 * an AWS::Events::Rule).
 */
export type RuleTarget = { function: string } | { queue: string } | { apiDestination: LocalApiDestination };

export interface LocalRule {
  name: string;
  busName: string;
  pattern: unknown;
  target: RuleTarget;
  maximumRetryAttempts: number;
  /** RetryPolicy.MaximumEventAgeInSeconds: no attempt after an event is this old. */
  maximumEventAgeSeconds: number;
  /** DeadLetterConfig: the SQS queue (its name) that takes what could not be delivered. */
  deadLetterQueue?: string;
}

/** An AWS::Events::Connection: how requests to an API destination are authorized. */
export type LocalConnection =
  | { authorizationType: 'API_KEY'; apiKey: { name: string; value: string } }
  | { authorizationType: 'BASIC'; basic: { username: string; password: string } }
  | {
      authorizationType: 'OAUTH_CLIENT_CREDENTIALS';
      oauth: {
        tokenUrl: string;
        httpMethod: string;
        clientId: string;
        clientSecret: string;
        bodyParameters: Record<string, string>;
        headerParameters: Record<string, string>;
        queryParameters: Record<string, string>;
      };
    };

/** An AWS::Events::ApiDestination with its connection. */
export interface LocalApiDestination {
  logicalId: string;
  name: string;
  arn: string;
  endpoint: string;
  httpMethod: string;
  /** InvocationRateLimitPerSecond (AWS's default is 300). */
  rateLimitPerSecond: number;
  connection: LocalConnection;
}

export interface LocalQueue {
  logicalId: string;
  name: string;
  arn: string;
  visibilityTimeoutSeconds: number;
  /** RedrivePolicy: after this many receives a message moves to the dead-letter queue. */
  redrive?: { deadLetterQueue: string; maxReceiveCount: number };
}

export interface LocalQueueSource {
  queue: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  /** FunctionResponseTypes has ReportBatchItemFailures: the function may fail single messages. */
  reportBatchItemFailures: boolean;
  /** ScalingConfig.MaximumConcurrency: batches handled at once. */
  maximumConcurrency: number;
}

export interface LocalTable {
  logicalId: string;
  name: string;
  keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  attributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  globalSecondaryIndexes?: unknown[];
  streamViewType?: string;
  streamArn?: string;
  timeToLiveAttribute?: string;
}

export interface LocalBucket {
  logicalId: string;
  name: string;
  eventBridgeEnabled: boolean;
  /** CorsConfiguration.CorsRules, as the template declares them (the local S3 answers by them). */
  corsRules: LocalCorsRule[];
}

export interface LocalCorsRule {
  allowedMethods: string[];
  allowedOrigins: string[];
  allowedHeaders: string[];
  exposedHeaders: string[];
  maxAgeSeconds?: number;
}

export interface LocalPipe {
  logicalId: string;
  sourceTable: string;
  batchSize: number;
  /** Batches of the stream handled at once, in order for each partition key. */
  parallelizationFactor: number;
  filters: unknown[];
  enrichmentFunction?: string;
  targetBus: string;
  detailType: string;
  source: string;
}

/** An HTTP API authorizer as API Gateway runs it (SAM HttpApi Auth.Authorizers). */
export type LocalHttpAuthorizer =
  | {
      type: 'lambda';
      name: string;
      /** The authorizer function's logical id. */
      function: string;
      payloadFormatVersion: string;
      simpleResponses: boolean;
      /**
       * Its identity sources as API Gateway writes them (`$request.header.authorization`,
       * `$context.stage`, ...): their values key the cache, and all must be present.
       */
      identitySources: string[];
      cacheTtlSeconds: number;
    }
  | { type: 'jwt'; name: string; issuer: string; audience: string[]; identityHeader: string };

export interface LocalHttpApi {
  /** The routes' authorizer (Auth.DefaultAuthorizer); none: the API is open. */
  authorizer?: LocalHttpAuthorizer;
  /** Every authorizer Auth.Authorizers declares, by name (a route's Auth may name one). */
  authorizers: Record<string, LocalHttpAuthorizer>;
  /** DefaultRouteSettings: each route's own token bucket. */
  throttling?: { burstLimit: number; rateLimit: number };
}

export interface LocalTemplate {
  /** The AWS::Serverless::HttpApi the functions' HttpApi events attach to. */
  httpApi: LocalHttpApi;
  functions: LocalFunction[];
  tables: LocalTable[];
  buckets: LocalBucket[];
  buses: string[];
  pipes: LocalPipe[];
  queues: LocalQueue[];
  /** Every rule on every bus: the functions' own and the AWS::Events::Rule resources. */
  rules: LocalRule[];
}

export interface TemplateOptions {
  stackName: string;
  region: string;
  accountId: string;
  parameterOverrides?: Record<string, string>;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

// CloudFormation's short-form intrinsics, read into their long form.
const intrinsicTags: Tags = ['Ref', 'GetAtt', 'Sub', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'And', 'Or', 'Condition', 'FindInMap', 'GetAZs', 'ImportValue', 'Base64'].flatMap(
  (name) => {
    const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
    const wrap = (value: unknown) => ({
      [key]: name === 'GetAtt' && typeof value === 'string' ? value.split('.') : value,
    });
    return (['scalar', 'seq', 'map'] as const).map((collection) => ({
      tag: `!${name}`,
      ...(collection === 'scalar' ? {} : { collection }),
      resolve: (value: unknown) => wrap(value instanceof Object && 'toJSON' in value ? (value as { toJSON(): unknown }).toJSON() : value),
    }));
  },
) as Tags;

function corsRule(logicalId: string, rule: JsonObject): LocalCorsRule {
  const strings = (name: string): string[] => {
    const value = rule[name] ?? [];
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      throw new TemplateError(`${logicalId}: CorsRules ${name} must be a list of strings`);
    }
    return value;
  };
  return {
    allowedMethods: strings('AllowedMethods'),
    allowedOrigins: strings('AllowedOrigins'),
    allowedHeaders: strings('AllowedHeaders'),
    exposedHeaders: strings('ExposedHeaders'),
    ...(typeof rule.MaxAge === 'number' && { maxAgeSeconds: rule.MaxAge }),
  };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The template as CloudFormation reads it, short-form intrinsics (`!Ref x`) in their long form (`{ Ref: x }`). */
export function readTemplateDocument(path: string): JsonObject {
  return parse(readFileSync(path, 'utf8'), { customTags: intrinsicTags }) as JsonObject;
}

export function loadTemplate(path: string, options: TemplateOptions): LocalTemplate {
  return new TemplateReader(readTemplateDocument(path), options).read();
}

// `Ref: AWS::NoValue` (usually inside Fn::If): the property or list item is left out.
const noValue = Symbol('AWS::NoValue');

class TemplateReader {
  private readonly resources: Record<string, JsonObject>;
  private readonly parameters: Record<string, string> = {};
  private readonly conditions = new Map<string, boolean>();

  constructor(
    private readonly document: JsonObject,
    private readonly options: TemplateOptions,
  ) {
    const resources = document.Resources;
    if (!isObject(resources)) throw new TemplateError('template has no Resources');
    this.resources = resources as Record<string, JsonObject>;
    const declared = isObject(document.Parameters) ? document.Parameters : {};
    for (const [name, declaration] of Object.entries(declared)) {
      const value = options.parameterOverrides?.[name] ?? (isObject(declaration) ? declaration.Default : undefined);
      if (value === undefined || value === null) throw new TemplateError(`parameter ${name} has no value`);
      this.parameters[name] = String(value);
      if (isObject(declaration)) checkParameter(name, String(value), declaration);
    }
    // Resources whose Condition is false do not exist, as in CloudFormation: nothing can
    // reach them, and the stack does not run them.
    this.resources = Object.fromEntries(
      Object.entries(resources as Record<string, JsonObject>).filter(
        ([, resource]) => resource.Condition === undefined || this.condition(String(resource.Condition)),
      ),
    );
    this.checkRules();
  }

  /**
   * The Rules section: CloudFormation refuses a stack whose parameters fail an assertion of a
   * rule whose RuleCondition holds, before it creates anything; so does the local stack.
   */
  private checkRules(): void {
    const rules = isObject(this.document.Rules) ? this.document.Rules : {};
    for (const [name, rule] of Object.entries(rules)) {
      if (!isObject(rule)) continue;
      if (rule.RuleCondition !== undefined && !this.evaluate(rule.RuleCondition)) continue;
      for (const assertion of Array.isArray(rule.Assertions) ? rule.Assertions.filter(isObject) : []) {
        if (!this.evaluate(assertion.Assert ?? null)) {
          throw new TemplateError(`template rule ${name}: ${String(assertion.AssertDescription ?? 'an assertion failed')}`);
        }
      }
    }
  }

  /** A named condition of the Conditions section, evaluated once. */
  private condition(name: string): boolean {
    const known = this.conditions.get(name);
    if (known !== undefined) return known;
    const declared = isObject(this.document.Conditions) ? this.document.Conditions[name] : undefined;
    if (declared === undefined) throw new TemplateError(`no condition ${name}`);
    const value = this.evaluate(declared);
    this.conditions.set(name, value);
    return value;
  }

  private evaluate(expression: Json): boolean {
    if (!isObject(expression)) throw new TemplateError(`a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition, not ${JSON.stringify(expression)}`);
    if ('Condition' in expression) return this.condition(String(expression.Condition));
    const operands = (key: string) => {
      const list = expression[key];
      if (!Array.isArray(list)) throw new TemplateError(`${key} takes a list`);
      return list;
    };
    if ('Fn::Equals' in expression) {
      const [left, right] = operands('Fn::Equals').map((operand) => JSON.stringify(this.resolve(operand)));
      return left === right;
    }
    if ('Fn::Not' in expression) return !this.evaluate(operands('Fn::Not')[0] ?? null);
    if ('Fn::And' in expression) return operands('Fn::And').every((operand) => this.evaluate(operand));
    if ('Fn::Or' in expression) return operands('Fn::Or').some((operand) => this.evaluate(operand));
    throw new TemplateError(`unsupported condition ${Object.keys(expression).join(', ')}`);
  }

  read(): LocalTemplate {
    const byType = (type: string) =>
      Object.entries(this.resources).filter(([, resource]) => resource.Type === type);
    const functions = byType('AWS::Serverless::Function').map(([id, r]) => this.function(id, r));
    const httpApis = byType('AWS::Serverless::HttpApi');
    if (httpApis.length > 1) throw new TemplateError('the local stack runs one AWS::Serverless::HttpApi');
    return {
      httpApi: this.checkRouteAuthorizers(httpApis.length === 1 ? this.httpApi(...httpApis[0]!) : { authorizers: {} }, functions),
      tables: byType('AWS::DynamoDB::Table').map(([id, r]) => this.table(id, r)),
      buckets: byType('AWS::S3::Bucket').map(([id, r]) => this.bucket(id, r)),
      buses: ['default', ...byType('AWS::Events::EventBus').map(([id]) => this.ref(id))],
      functions,
      pipes: byType('AWS::Pipes::Pipe').map(([id, r]) => this.pipe(id, r)),
      queues: byType('AWS::SQS::Queue').map(([id, r]) => this.queue(id, r)),
      rules: [...functions.flatMap((fn) => fn.rules), ...byType('AWS::Events::Rule').flatMap(([id, r]) => this.rule(id, r))],
    };
  }

  // --- names and intrinsics -------------------------------------------------------------

  private physicalName(logicalId: string): string {
    const resource = this.resources[logicalId];
    if (!resource) throw new TemplateError(`no resource ${logicalId}`);
    const properties: JsonObject = isObject(resource.Properties) ? resource.Properties : {};
    const explicit = properties.TableName ?? properties.BucketName ?? properties.QueueName ?? properties.Name ?? properties.FunctionName;
    if (explicit !== undefined) return String(this.resolve(explicit));
    const name = `${this.options.stackName}-${logicalId}`;
    return resource.Type === 'AWS::S3::Bucket' ? name.toLowerCase() : name;
  }

  private ref(logicalId: string): string {
    if (logicalId in this.parameters) return this.parameters[logicalId]!;
    const pseudo: Record<string, string> = {
      'AWS::StackName': this.options.stackName,
      'AWS::Region': this.options.region,
      'AWS::AccountId': this.options.accountId,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (logicalId in pseudo) return pseudo[logicalId]!;
    // Ref of a queue is its URL, as in CloudFormation.
    if (this.resources[logicalId]?.Type === 'AWS::SQS::Queue') {
      return `https://sqs.${this.options.region}.amazonaws.com/${this.options.accountId}/${this.physicalName(logicalId)}`;
    }
    return this.physicalName(logicalId);
  }

  private arn(logicalId: string): string {
    const resource = this.resources[logicalId];
    const { region, accountId } = this.options;
    const name = this.physicalName(logicalId);
    switch (resource?.Type) {
      case 'AWS::Serverless::Function':
        return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
      case 'AWS::Events::EventBus':
        return `arn:aws:events:${region}:${accountId}:event-bus/${name}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${region}:${accountId}:${name}`;
      case 'AWS::Events::Rule':
        return `arn:aws:events:${region}:${accountId}:rule/${name}`;
      case 'AWS::Events::Connection':
        return `arn:aws:events:${region}:${accountId}:connection/${name}/local`;
      case 'AWS::Events::ApiDestination':
        return `arn:aws:events:${region}:${accountId}:api-destination/${name}/local`;
      default:
        return `arn:aws:local:${region}:${accountId}:${logicalId}`;
    }
  }

  private getAtt(logicalId: string, attribute: string): string {
    if (attribute === 'Arn') return this.arn(logicalId);
    if (attribute === 'StreamArn') return `${this.arn(logicalId)}/stream/local`;
    if (attribute === 'QueueName' && this.resources[logicalId]?.Type === 'AWS::SQS::Queue') return this.physicalName(logicalId);
    throw new TemplateError(`Fn::GetAtt ${logicalId}.${attribute} is not supported by the local stack`);
  }

  private resolve(value: Json | undefined): Json {
    const resolved = this.resolveOrNoValue(value);
    return resolved === noValue ? null : resolved;
  }

  private resolveOrNoValue(value: Json | undefined): Json | typeof noValue {
    if (Array.isArray(value)) {
      return value.map((item) => this.resolveOrNoValue(item)).filter((item): item is Json => item !== noValue);
    }
    if (!isObject(value)) return value ?? null;
    if (value.Ref === 'AWS::NoValue') return noValue;
    if ('Fn::If' in value) {
      const [condition, whenTrue, whenFalse] = Array.isArray(value['Fn::If']) ? value['Fn::If'] : [];
      if (typeof condition !== 'string') throw new TemplateError('Fn::If takes [condition name, value if true, value if false]');
      return this.resolveOrNoValue(this.condition(condition) ? whenTrue : whenFalse);
    }
    if ('Ref' in value) return this.ref(String(value.Ref));
    if ('Fn::FindInMap' in value) return this.findInMap(value['Fn::FindInMap']);
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return this.getAtt(String(getAtt[0]), String(getAtt[1]));
    if ('Fn::Sub' in value) {
      const sub = value['Fn::Sub'];
      const [text, variables]: [string, Json | undefined] = Array.isArray(sub) ? [String(sub[0]), sub[1]] : [String(sub), undefined];
      return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        if (isObject(variables) && name in variables) return String(this.resolve(variables[name]));
        const [id, attribute] = name.split('.');
        return attribute ? this.getAtt(id!, attribute) : this.ref(id!);
      });
    }
    if ('Fn::Join' in value && Array.isArray(value['Fn::Join'])) {
      const [separator, items] = value['Fn::Join'];
      return (this.resolve(items) as Json[]).join(String(separator));
    }
    const unsupported = Object.keys(value).find((key) => key.startsWith('Fn::'));
    if (unsupported) throw new TemplateError(`${unsupported} is not supported by the local stack`);
    return Object.fromEntries(
      Object.entries(value)
        .map(([key, child]) => [key, this.resolveOrNoValue(child)] as const)
        .filter((entry): entry is readonly [string, Json] => entry[1] !== noValue),
    );
  }

  /** Fn::FindInMap [map, top-level key, second-level key], each of which may be an intrinsic. */
  private findInMap(args: Json | undefined): Json {
    if (!Array.isArray(args) || args.length !== 3) throw new TemplateError('Fn::FindInMap takes [map name, top-level key, second-level key]');
    const [mapName, topKey, secondKey] = args.map((arg) => String(this.resolve(arg)));
    const mappings = isObject(this.document.Mappings) ? this.document.Mappings : {};
    const map = mappings[mapName!];
    const top = isObject(map) ? map[topKey!] : undefined;
    const found = isObject(top) ? top[secondKey!] : undefined;
    if (found === undefined) throw new TemplateError(`Fn::FindInMap: no ${mapName}.${topKey}.${secondKey}`);
    return found;
  }

  private properties(resource: JsonObject): JsonObject {
    return isObject(resource.Properties) ? (this.resolve(resource.Properties) as JsonObject) : {};
  }

  private logicalIdOfArn(arn: string): string {
    const id = Object.keys(this.resources).find((candidate) => {
      const type = this.resources[candidate]?.Type;
      if (type === 'AWS::DynamoDB::Table' && arn === this.getAtt(candidate, 'StreamArn')) return true;
      return ['AWS::Serverless::Function', 'AWS::Events::EventBus', 'AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::Events::ApiDestination', 'AWS::Events::Connection'].includes(String(type)) &&
        arn === this.arn(candidate);
    });
    if (!id) throw new TemplateError(`no resource has the ARN ${arn}`);
    return id;
  }

  // --- resources --------------------------------------------------------------------------

  private table(logicalId: string, resource: JsonObject): LocalTable {
    const p = this.properties(resource);
    const stream = isObject(p.StreamSpecification) ? String(p.StreamSpecification.StreamViewType) : undefined;
    const ttl = isObject(p.TimeToLiveSpecification) && p.TimeToLiveSpecification.Enabled ? String(p.TimeToLiveSpecification.AttributeName) : undefined;
    return {
      logicalId,
      name: this.physicalName(logicalId),
      keySchema: p.KeySchema as unknown as LocalTable['keySchema'],
      attributeDefinitions: p.AttributeDefinitions as unknown as LocalTable['attributeDefinitions'],
      ...(Array.isArray(p.GlobalSecondaryIndexes) && { globalSecondaryIndexes: p.GlobalSecondaryIndexes }),
      ...(stream && { streamViewType: stream, streamArn: this.getAtt(logicalId, 'StreamArn') }),
      ...(ttl && { timeToLiveAttribute: ttl }),
    };
  }

  private bucket(logicalId: string, resource: JsonObject): LocalBucket {
    const p = this.properties(resource);
    const notifications = isObject(p.NotificationConfiguration) ? p.NotificationConfiguration : {};
    const eventBridge = isObject(notifications.EventBridgeConfiguration) ? notifications.EventBridgeConfiguration : {};
    const cors = isObject(p.CorsConfiguration) && Array.isArray(p.CorsConfiguration.CorsRules) ? p.CorsConfiguration.CorsRules : [];
    return {
      logicalId,
      name: this.physicalName(logicalId),
      eventBridgeEnabled: eventBridge.EventBridgeEnabled === true,
      corsRules: cors.filter(isObject).map((rule) => corsRule(logicalId, rule)),
    };
  }

  private function(logicalId: string, resource: JsonObject): LocalFunction {
    const globals = isObject(this.document.Globals) && isObject(this.document.Globals.Function)
      ? (this.resolve(this.document.Globals.Function) as JsonObject)
      : {};
    const p = this.properties(resource);
    const metadata = isObject(resource.Metadata) ? resource.Metadata : {};
    const build = isObject(metadata.BuildProperties) ? metadata.BuildProperties : {};
    const entryPoints = Array.isArray(build.EntryPoints) ? build.EntryPoints : [];
    if (metadata.BuildMethod !== 'esbuild' || entryPoints.length !== 1) {
      throw new TemplateError(`${logicalId}: the local stack runs esbuild functions with one EntryPoint`);
    }
    const handler = String(p.Handler ?? globals.Handler ?? '');
    const exportName = handler.slice(handler.lastIndexOf('.') + 1);
    const environmentOf = (source: JsonObject) =>
      isObject(source.Environment) && isObject(source.Environment.Variables) ? source.Environment.Variables : {};
    const environment = Object.fromEntries(
      Object.entries({ ...environmentOf(globals), ...environmentOf(p) }).map(([k, v]) => [k, String(v)]),
    );
    const events = isObject(p.Events) ? Object.entries(p.Events) : [];
    const name = this.physicalName(logicalId);
    return {
      logicalId,
      name,
      arn: this.arn(logicalId),
      entryPoint: String(entryPoints[0]),
      exportName,
      buildProperties: build,
      timeoutSeconds: Number(p.Timeout ?? globals.Timeout ?? 3),
      memorySizeMb: Number(p.MemorySize ?? globals.MemorySize ?? 128),
      architecture: architectureOf(p.Architectures ?? globals.Architectures),
      environment,
      httpRoutes: events.flatMap(([, e]) =>
        isObject(e) && e.Type === 'HttpApi' && isObject(e.Properties)
          ? [{
              method: String(e.Properties.Method).toUpperCase(),
              path: String(e.Properties.Path),
              ...(isObject(e.Properties.Auth) && e.Properties.Auth.Authorizer !== undefined && { authorizer: String(e.Properties.Auth.Authorizer) }),
            }]
          : [],
      ),
      schedules: events.flatMap(([eventId, e]) =>
        isObject(e) && (e.Type === 'Schedule' || e.Type === 'ScheduleV2') && isObject(e.Properties)
          ? [{ name: `${name}-${eventId}`, expression: String(e.Properties.Schedule ?? e.Properties.ScheduleExpression) }]
          : [],
      ),
      rules: events.flatMap(([eventId, e]) => {
        if (!isObject(e) || e.Type !== 'EventBridgeRule' || !isObject(e.Properties)) return [];
        const retry = isObject(e.Properties.RetryPolicy) ? e.Properties.RetryPolicy : {};
        const deadLetterQueue = this.deadLetterQueueOf(e.Properties.DeadLetterConfig, `${logicalId}.Events.${eventId}`);
        return [{
          name: `${name}-${eventId}`,
          busName: String(e.Properties.EventBusName ?? 'default'),
          pattern: e.Properties.Pattern,
          target: { function: logicalId },
          maximumRetryAttempts: Number(retry.MaximumRetryAttempts ?? 185),
          maximumEventAgeSeconds: Number(retry.MaximumEventAgeInSeconds ?? 86400),
          ...(deadLetterQueue && { deadLetterQueue }),
        }];
      }),
      asyncInvoke: this.asyncInvoke(logicalId, p.EventInvokeConfig),
      queueSources: events.flatMap(([, e]) => {
        if (!isObject(e) || e.Type !== 'SQS' || !isObject(e.Properties)) return [];
        const q = e.Properties;
        const scaling = isObject(q.ScalingConfig) ? q.ScalingConfig : {};
        return [{
          queue: this.physicalName(this.logicalIdOfArn(String(q.Queue))),
          batchSize: Number(q.BatchSize ?? 10),
          maximumBatchingWindowSeconds: Number(q.MaximumBatchingWindowInSeconds ?? 0),
          reportBatchItemFailures: Array.isArray(q.FunctionResponseTypes) && q.FunctionResponseTypes.includes('ReportBatchItemFailures'),
          // Lambda starts with five pollers for a queue; ScalingConfig caps the batches at once.
          maximumConcurrency: Number(scaling.MaximumConcurrency ?? 5),
        }];
      }),
    };
  }

  private httpApi(logicalId: string, resource: JsonObject): LocalHttpApi {
    const p = this.properties(resource);
    const auth = isObject(p.Auth) ? p.Auth : {};
    const authorizers = isObject(auth.Authorizers) ? auth.Authorizers : {};
    const defaultName = auth.DefaultAuthorizer === undefined || auth.DefaultAuthorizer === null ? '' : String(auth.DefaultAuthorizer);
    const settings = isObject(p.DefaultRouteSettings) ? p.DefaultRouteSettings : {};
    const throttling =
      settings.ThrottlingBurstLimit !== undefined || settings.ThrottlingRateLimit !== undefined
        ? { burstLimit: Number(settings.ThrottlingBurstLimit ?? 5000), rateLimit: Number(settings.ThrottlingRateLimit ?? 10000) }
        : undefined;
    const declared = Object.fromEntries(
      Object.entries(authorizers).map(([name, definition]) => {
        if (!isObject(definition)) throw new TemplateError(`${logicalId}: authorizer ${name} is not an object`);
        return [name, this.httpAuthorizer(logicalId, name, definition)];
      }),
    );
    if (defaultName !== '' && !declared[defaultName]) throw new TemplateError(`${logicalId}: DefaultAuthorizer ${defaultName} is not among its Authorizers`);
    const authorizer = defaultName === '' ? undefined : declared[defaultName];
    return { ...(authorizer && { authorizer }), authorizers: declared, ...(throttling && { throttling }) };
  }

  /** What SAM checks of an HttpApi event's Auth.Authorizer (samtranslator/model/eventsources/push.py). */
  private checkRouteAuthorizers(api: LocalHttpApi, functions: LocalFunction[]): LocalHttpApi {
    for (const fn of functions) {
      for (const route of fn.httpRoutes) {
        const where = `${fn.logicalId}: ${route.method} ${route.path}`;
        if (route.authorizer === 'NONE' && !api.authorizer) {
          throw new TemplateError(`${where}: Authorizer NONE is only valid when the API has a DefaultAuthorizer`);
        }
        if (route.authorizer !== undefined && route.authorizer !== 'NONE' && !api.authorizers[route.authorizer]) {
          throw new TemplateError(`${where}: Authorizer ${route.authorizer} is not among the API's Authorizers`);
        }
      }
    }
    return api;
  }

  private httpAuthorizer(apiId: string, name: string, definition: JsonObject): LocalHttpAuthorizer {
    if (isObject(definition.JwtConfiguration)) {
      const jwt = definition.JwtConfiguration;
      const source = String(definition.IdentitySource ?? '$request.header.Authorization');
      const header = /^\$request\.header\.(.+)$/.exec(source)?.[1];
      if (!header) throw new TemplateError(`${apiId}: the local stack takes a JWT authorizer's token from a header, not ${source}`);
      const audience = Array.isArray(jwt.audience) ? jwt.audience.map(String) : [String(jwt.audience)];
      return { type: 'jwt', name, issuer: String(jwt.issuer), audience, identityHeader: header.toLowerCase() };
    }
    if (definition.FunctionArn === undefined) throw new TemplateError(`${apiId}: authorizer ${name} is neither a Lambda nor a JWT authorizer`);
    const identity = isObject(definition.Identity) ? definition.Identity : {};
    // SAM's Identity lists, as the selection expressions SAM turns them into.
    const sources = (key: string, prefix: string, lowerCase = false) =>
      (Array.isArray(identity[key]) ? identity[key] : []).map((name) => `${prefix}${lowerCase ? String(name).toLowerCase() : String(name)}`);
    const identitySources = [
      ...sources('Headers', '$request.header.', true),
      ...sources('QueryStrings', '$request.querystring.'),
      ...sources('StageVariables', '$stageVariables.'),
      ...sources('Context', '$context.'),
    ];
    const ttl = Number(identity.ReauthorizeEvery ?? 300);
    if (ttl > 0 && identitySources.length === 0) throw new TemplateError(`${apiId}: authorizer ${name} caches its results, so it needs an identity source`);
    return {
      type: 'lambda',
      name,
      function: this.logicalIdOfArn(String(definition.FunctionArn)),
      payloadFormatVersion: String(definition.AuthorizerPayloadFormatVersion ?? ''),
      simpleResponses: definition.EnableSimpleResponses === true,
      identitySources,
      cacheTtlSeconds: ttl,
    };
  }

  private asyncInvoke(logicalId: string, config: Json | undefined): AsyncInvokeConfig {
    const c = isObject(config) ? config : {};
    const destinations = isObject(c.DestinationConfig) ? c.DestinationConfig : {};
    const onFailure = isObject(destinations.OnFailure) ? destinations.OnFailure : undefined;
    if (onFailure && onFailure.Type !== 'SQS') {
      throw new TemplateError(`${logicalId}: the local stack sends on-failure destinations to SQS queues only`);
    }
    const queueId = onFailure && this.logicalIdOfArn(String(onFailure.Destination));
    if (queueId && this.resources[queueId]?.Type !== 'AWS::SQS::Queue') throw new TemplateError(`${logicalId}: OnFailure.Destination is not an SQS queue`);
    return {
      maximumRetryAttempts: Number(c.MaximumRetryAttempts ?? 2),
      maximumEventAgeSeconds: Number(c.MaximumEventAgeInSeconds ?? 21600),
      ...(queueId && { onFailureQueue: this.physicalName(queueId) }),
    };
  }

  /** A rule target's DeadLetterConfig: the SQS queue's name. */
  private deadLetterQueueOf(config: Json | undefined, where: string): string | undefined {
    if (!isObject(config)) return undefined;
    const queueId = this.logicalIdOfArn(String(config.Arn));
    if (this.resources[queueId]?.Type !== 'AWS::SQS::Queue') throw new TemplateError(`${where}: DeadLetterConfig.Arn is not an SQS queue`);
    return this.physicalName(queueId);
  }

  private queue(logicalId: string, resource: JsonObject): LocalQueue {
    const p = this.properties(resource);
    const redrive = isObject(p.RedrivePolicy) ? p.RedrivePolicy : undefined;
    return {
      logicalId,
      name: this.physicalName(logicalId),
      arn: this.arn(logicalId),
      visibilityTimeoutSeconds: Number(p.VisibilityTimeout ?? 30),
      ...(redrive && {
        redrive: {
          deadLetterQueue: this.physicalName(this.logicalIdOfArn(String(redrive.deadLetterTargetArn))),
          maxReceiveCount: Number(redrive.maxReceiveCount),
        },
      }),
    };
  }

  /** An AWS::Events::Rule; the local stack delivers to its SQS queue and API destination targets. */
  private rule(logicalId: string, resource: JsonObject): LocalRule[] {
    const p = this.properties(resource);
    const targets = Array.isArray(p.Targets) ? p.Targets.filter(isObject) : [];
    return targets.map((target) => {
      const targetId = this.logicalIdOfArn(String(target.Arn));
      const type = this.resources[targetId]?.Type;
      if (type !== 'AWS::SQS::Queue' && type !== 'AWS::Events::ApiDestination') {
        throw new TemplateError(`${logicalId}: the local stack delivers AWS::Events::Rule targets to SQS queues and API destinations only (functions subscribe with SAM EventBridgeRule events)`);
      }
      for (const unsupported of ['Input', 'InputPath', 'InputTransformer', 'HttpParameters']) {
        if (unsupported in target) throw new TemplateError(`${logicalId}: the local stack sends the event itself; ${unsupported} is not supported`);
      }
      const retry = isObject(target.RetryPolicy) ? target.RetryPolicy : {};
      const deadLetterQueue = this.deadLetterQueueOf(target.DeadLetterConfig, `${logicalId}.Targets.${String(target.Id)}`);
      return {
        name: `${this.physicalName(logicalId)}-${String(target.Id)}`,
        busName: String(p.EventBusName ?? 'default'),
        pattern: p.EventPattern,
        target: type === 'AWS::SQS::Queue'
          ? { queue: this.physicalName(targetId) }
          : { apiDestination: this.apiDestination(targetId) },
        maximumRetryAttempts: Number(retry.MaximumRetryAttempts ?? 185),
        maximumEventAgeSeconds: Number(retry.MaximumEventAgeInSeconds ?? 86400),
        ...(deadLetterQueue && { deadLetterQueue }),
      };
    });
  }

  private apiDestination(logicalId: string): LocalApiDestination {
    const p = this.properties(this.resources[logicalId]!);
    const connectionId = this.logicalIdOfArn(String(p.ConnectionArn));
    if (this.resources[connectionId]?.Type !== 'AWS::Events::Connection') throw new TemplateError(`${logicalId}: ConnectionArn is not a connection`);
    return {
      logicalId,
      name: this.physicalName(logicalId),
      arn: this.arn(logicalId),
      endpoint: String(p.InvocationEndpoint),
      httpMethod: String(p.HttpMethod),
      rateLimitPerSecond: Number(p.InvocationRateLimitPerSecond ?? 300),
      connection: this.connection(connectionId),
    };
  }

  private connection(logicalId: string): LocalConnection {
    const p = this.properties(this.resources[logicalId]!);
    const auth = isObject(p.AuthParameters) ? p.AuthParameters : {};
    const object = (value: Json | undefined): JsonObject => (isObject(value) ? value : {});
    // Key/Value lists (OAuthHttpParameters), read into a plain map.
    const pairs = (value: Json | undefined) =>
      Object.fromEntries((Array.isArray(value) ? value.filter(isObject) : []).map((pair) => [String(pair.Key), String(pair.Value)]));
    const type = String(p.AuthorizationType);
    switch (type) {
      case 'API_KEY': {
        const key = object(auth.ApiKeyAuthParameters);
        return { authorizationType: type, apiKey: { name: String(key.ApiKeyName), value: String(key.ApiKeyValue) } };
      }
      case 'BASIC': {
        const basic = object(auth.BasicAuthParameters);
        return { authorizationType: type, basic: { username: String(basic.Username), password: String(basic.Password) } };
      }
      case 'OAUTH_CLIENT_CREDENTIALS': {
        const oauth = object(auth.OAuthParameters);
        const client = object(oauth.ClientParameters);
        const http = object(oauth.OAuthHttpParameters);
        return {
          authorizationType: type,
          oauth: {
            tokenUrl: String(oauth.AuthorizationEndpoint),
            httpMethod: String(oauth.HttpMethod ?? 'POST'),
            clientId: String(client.ClientID),
            clientSecret: String(client.ClientSecret),
            bodyParameters: pairs(http.BodyParameters),
            headerParameters: pairs(http.HeaderParameters),
            queryParameters: pairs(http.QueryStringParameters),
          },
        };
      }
      default:
        throw new TemplateError(`${logicalId}: AuthorizationType ${type} is not supported by the local stack`);
    }
  }

  private pipe(logicalId: string, resource: JsonObject): LocalPipe {
    const p = this.properties(resource);
    const source = this.logicalIdOfArn(String(p.Source));
    const sourceParameters = isObject(p.SourceParameters) ? p.SourceParameters : {};
    const stream = isObject(sourceParameters.DynamoDBStreamParameters) ? sourceParameters.DynamoDBStreamParameters : {};
    const filterCriteria = isObject(sourceParameters.FilterCriteria) ? sourceParameters.FilterCriteria : {};
    const filters = Array.isArray(filterCriteria.Filters) ? filterCriteria.Filters : [];
    const target = isObject(p.TargetParameters) && isObject(p.TargetParameters.EventBridgeEventBusParameters)
      ? p.TargetParameters.EventBridgeEventBusParameters
      : {};
    const targetId = this.logicalIdOfArn(String(p.Target));
    if (this.resources[targetId]?.Type !== 'AWS::Events::EventBus') {
      throw new TemplateError(`${logicalId}: the local stack supports pipes whose target is an event bus`);
    }
    const batchSize = Number(stream.BatchSize ?? 10);
    const dynamic = [target.DetailType, target.Source].some((value) => String(value).startsWith('$.'));
    if (p.Enrichment && dynamic && batchSize !== 1) {
      // AWS reads dynamic parameters from the source record and does not say which record of a
      // batch an enriched event would take them from; the stack will not guess.
      throw new TemplateError(`${logicalId}: dynamic target parameters with an enrichment need BatchSize 1`);
    }
    return {
      logicalId,
      sourceTable: this.physicalName(source),
      batchSize,
      parallelizationFactor: Number(stream.ParallelizationFactor ?? 1),
      filters: filters.map((f) => JSON.parse(String(isObject(f) ? f.Pattern : '{}')) as unknown),
      ...(p.Enrichment && { enrichmentFunction: this.logicalIdOfArn(String(p.Enrichment)) }),
      targetBus: this.physicalName(targetId),
      detailType: String(target.DetailType ?? 'Event from aws:dynamodb'),
      source: String(target.Source ?? 'Pipe'),
    };
  }
}

/**
 * A parameter's own constraints, as CloudFormation checks them before it creates anything
 * (AllowedPattern must match the whole value).
 */
function checkParameter(name: string, value: string, declaration: JsonObject): void {
  const fail = (what: string) => {
    const description = declaration.ConstraintDescription ? String(declaration.ConstraintDescription) : what;
    throw new TemplateError(`parameter ${name}: ${description} (got ${declaration.NoEcho ? 'a hidden value' : JSON.stringify(value)})`);
  };
  if (Array.isArray(declaration.AllowedValues) && !declaration.AllowedValues.map(String).includes(value)) {
    fail(`must be one of ${declaration.AllowedValues.join(', ')}`);
  }
  if (declaration.AllowedPattern !== undefined && !new RegExp(`^(?:${String(declaration.AllowedPattern)})$`).test(value)) {
    fail(`must match ${String(declaration.AllowedPattern)}`);
  }
  if (declaration.Type === 'Number') {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number)) fail('must be a number');
    if (declaration.MinValue !== undefined && number < Number(declaration.MinValue)) fail(`must be at least ${String(declaration.MinValue)}`);
    if (declaration.MaxValue !== undefined && number > Number(declaration.MaxValue)) fail(`must be at most ${String(declaration.MaxValue)}`);
  }
  if (declaration.MinLength !== undefined && value.length < Number(declaration.MinLength)) fail(`must be at least ${String(declaration.MinLength)} characters`);
  if (declaration.MaxLength !== undefined && value.length > Number(declaration.MaxLength)) fail(`must be at most ${String(declaration.MaxLength)} characters`);
}

/** SAM's default is x86_64; a function names at most one architecture. */
function architectureOf(value: unknown): 'arm64' | 'x86_64' {
  return Array.isArray(value) && value[0] === 'arm64' ? 'arm64' : 'x86_64';
}
