// Checks a template's CloudFormation resources against AWS's resource specification (the
// database the AWS CDK generates its resource classes from), as far as cfn-lint's schema
// checks go: known resource types, known and required properties at every depth, the shape
// of each value, and every Ref, Fn::GetAtt and Fn::Sub pointing at something that exists.
// cfn-lint and `sam validate` need Python; this runs in `npm test`, so a misspelt property
// fails here instead of in a deployment. SAM's own resource types (AWS::Serverless::*) are not
// in the specification: their properties are left to the wiring tests and the local stack,
// but references to and from them are checked.
import type { Property, PropertyType, SpecDatabase } from '@aws-cdk/service-spec-types';
import type { Json, JsonObject } from '../../local/template.ts';

export interface Finding {
  /** Where, as Resources.<id>.Properties.<path> (or the intrinsic's place). */
  at: string;
  problem: string;
}

/** What a SAM resource becomes, for the attributes Fn::GetAtt may read from it. */
const samEquivalents: Record<string, string> = {
  'AWS::Serverless::Function': 'AWS::Lambda::Function',
  'AWS::Serverless::HttpApi': 'AWS::ApiGatewayV2::Api',
  'AWS::Serverless::SimpleTable': 'AWS::DynamoDB::Table',
  'AWS::Serverless::StateMachine': 'AWS::StepFunctions::StateMachine',
};

const pseudoParameters = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ Ref: ... }` or `{ "Fn::...": ... }`: its value is only known at deploy time. */
function isIntrinsic(value: Json): value is JsonObject {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::') || keys[0] === 'Condition');
}

export function checkTemplate(document: JsonObject, spec: SpecDatabase): Finding[] {
  return new TemplateChecker(document, spec).check();
}

class TemplateChecker {
  private readonly findings: Finding[] = [];
  private readonly resources: Record<string, JsonObject>;
  private readonly parameters: Set<string>;

  constructor(
    private readonly document: JsonObject,
    private readonly spec: SpecDatabase,
  ) {
    this.resources = (isObject(document.Resources) ? document.Resources : {}) as Record<string, JsonObject>;
    this.parameters = new Set(Object.keys(isObject(document.Parameters) ? document.Parameters : {}));
  }

  check(): Finding[] {
    for (const [id, resource] of Object.entries(this.resources)) {
      const type = String(resource.Type);
      if (type.startsWith('AWS::Serverless::')) continue;
      const definition = this.resourceType(type);
      if (!definition) {
        this.report(`Resources.${id}.Type`, `${type} is not a CloudFormation resource type`);
        continue;
      }
      const properties = resource.Properties ?? {};
      if (!isObject(properties)) this.report(`Resources.${id}.Properties`, 'must be an object');
      else this.checkObject(properties, definition.properties, `Resources.${id}.Properties`);
    }
    this.checkReferences(this.document, '');
    return this.findings;
  }

  private resourceType(type: string) {
    return this.spec.lookup('resource', 'cloudFormationType', 'equals', type)[0];
  }

  private report(at: string, problem: string): void {
    this.findings.push({ at, problem });
  }

  private checkObject(value: JsonObject, properties: Record<string, Property>, at: string): void {
    for (const [name, child] of Object.entries(value)) {
      const property = properties[name];
      if (!property) {
        this.report(`${at}.${name}`, `is not a property here; known: ${Object.keys(properties).sort().join(', ')}`);
        continue;
      }
      this.checkValue(child, [property.type, ...(property.previousTypes ?? [])], `${at}.${name}`);
    }
    for (const [name, property] of Object.entries(properties)) {
      if (property.required && !(name in value)) this.report(`${at}.${name}`, 'is required');
    }
  }

  /** The value must fit one of the types; the findings of the type its shape fits are reported. */
  private checkValue(value: Json, types: PropertyType[], at: string): void {
    if (isIntrinsic(value)) return;
    const candidates = types.flatMap((type) => (type.type === 'union' ? type.types : [type]));
    const fitting = candidates.filter((type) => this.shapeFits(value, type));
    if (fitting.length === 0) {
      this.report(at, `must be ${[...new Set(candidates.map(describeType))].join(' or ')}, not ${JSON.stringify(value)}`);
      return;
    }
    // A union with `json` (kept for older templates) would let anything through: the typed
    // members are checked whenever the value's shape fits one of them.
    const typed = fitting.filter((type) => type.type !== 'json');
    const attempts = (typed.length > 0 ? typed : fitting).map((type) => this.findingsOf(() => this.checkFitting(value, type, at)));
    if (attempts.some((findings) => findings.length === 0)) return;
    this.findings.push(...attempts[0]!);
  }

  private findingsOf(check: () => void): Finding[] {
    const before = this.findings.length;
    check();
    return this.findings.splice(before);
  }

  private shapeFits(value: Json, type: PropertyType): boolean {
    switch (type.type) {
      case 'json':
        return true;
      case 'string':
      case 'date-time':
        // CloudFormation turns numbers and booleans into strings where a string is expected.
        return ['string', 'number', 'boolean'].includes(typeof value);
      case 'integer':
        return Number.isInteger(typeof value === 'string' ? Number(value) : value);
      case 'number':
        return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)));
      case 'boolean':
        return typeof value === 'boolean' || value === 'true' || value === 'false';
      case 'null':
        return value === null;
      case 'tag':
        return Array.isArray(value);
      case 'array':
        return Array.isArray(value);
      case 'map':
      case 'ref':
        return isObject(value);
      case 'union':
        return type.types.some((member) => this.shapeFits(value, member));
    }
  }

  private checkFitting(value: Json, type: PropertyType, at: string): void {
    if (type.type === 'array' && Array.isArray(value)) {
      value.forEach((element, index) => this.checkValue(element, [type.element], `${at}[${index}]`));
    } else if (type.type === 'map' && isObject(value)) {
      for (const [key, element] of Object.entries(value)) this.checkValue(element, [type.element], `${at}.${key}`);
    } else if (type.type === 'tag' && Array.isArray(value)) {
      value.forEach((tag, index) => {
        if (!isObject(tag) || !('Key' in tag) || !('Value' in tag)) this.report(`${at}[${index}]`, 'must be a tag: { Key, Value }');
      });
    } else if (type.type === 'ref' && isObject(value)) {
      const definition = this.spec.get('typeDefinition', type.reference.$ref);
      this.checkObject(value, definition.properties, at);
    }
  }

  // --- references ----------------------------------------------------------------------

  private checkReferences(value: Json, at: string, subVariables: Set<string> = new Set()): void {
    if (Array.isArray(value)) {
      value.forEach((element, index) => this.checkReferences(element, `${at}[${index}]`, subVariables));
      return;
    }
    if (!isObject(value)) return;
    for (const [key, child] of Object.entries(value)) {
      const here = at ? `${at}.${key}` : key;
      if (key === 'Ref' && typeof child === 'string') this.checkRef(child, here, subVariables);
      else if (key === 'Fn::GetAtt') this.checkGetAtt(child, here);
      else if (key === 'Fn::Sub') {
        this.checkSub(child, here);
        continue;
      }
      this.checkReferences(child, here, subVariables);
    }
  }

  private checkRef(name: string, at: string, subVariables: Set<string>): void {
    if (subVariables.has(name) || pseudoParameters.has(name) || this.parameters.has(name) || name in this.resources) return;
    this.report(at, `refers to ${name}, which is neither a parameter nor a resource`);
  }

  private checkGetAtt(target: Json, at: string): void {
    const [id, ...path] = Array.isArray(target) ? target.map(String) : String(target).split('.');
    const attribute = path.join('.');
    const resource = id === undefined ? undefined : this.resources[id];
    if (!resource) {
      this.report(at, `reads an attribute of ${id}, which is not a resource`);
      return;
    }
    const type = String(resource.Type);
    const definition = this.resourceType(samEquivalents[type] ?? type);
    if (!definition) return; // a SAM type without a known equivalent: nothing to check against
    if (!(attribute in definition.attributes)) {
      this.report(at, `${type} has no attribute ${attribute}; it has ${Object.keys(definition.attributes).sort().join(', ')}`);
    }
  }

  /** `${Name}` and `${Name.Attribute}` in the string are a Ref and a GetAtt; `${!Literal}` is text. */
  private checkSub(argument: Json, at: string): void {
    const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
    const own = new Set(Object.keys(isObject(variables) ? variables : {}));
    if (isObject(variables)) this.checkReferences(variables, `${at}[1]`);
    if (typeof text !== 'string') return;
    for (const [, name] of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
      const reference = name!.trim();
      if (own.has(reference)) continue;
      if (reference.includes('.') && !pseudoParameters.has(reference)) {
        const [id, ...attribute] = reference.split('.');
        this.checkGetAtt([id!, attribute.join('.')], at);
      } else this.checkRef(reference, at, own);
    }
  }
}

function describeType(type: PropertyType): string {
  switch (type.type) {
    case 'ref':
      return 'an object';
    case 'map':
      return 'a map';
    case 'array':
    case 'tag':
      return 'a list';
    case 'union':
      return type.types.map(describeType).join(' or ');
    case 'integer':
      return 'an integer';
    default:
      return `a ${type.type}`;
  }
}
