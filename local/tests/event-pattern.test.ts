// The local EventBridge's event-pattern matcher, checked against the examples of the Amazon
// EventBridge User Guide (comparison operators, content filtering, null values and empty strings,
// arrays, $or). The guide gives the patterns; the events are written here, one that matches and at
// least one that does not for each, so every row can fail.
import { describe, expect, it } from 'vitest';
import {
  compileEventPattern,
  InvalidEventPatternError,
  matchesEventPattern,
} from '../eventbridge/pattern-matcher.ts';

/** An event as rules see it: the PutEvents envelope around `detail`. */
function busEvent(detail: Record<string, unknown>, envelope: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '111122223333',
    time: '2017-12-22T18:43:48Z',
    region: 'us-west-1',
    resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
    detail,
    ...envelope,
  };
}

interface Case {
  name: string;
  pattern: unknown;
  event: unknown;
  matches: boolean;
}

function checkAll(cases: readonly Case[]): void {
  it.each(cases)('$name', ({ pattern, event, matches }) => {
    expect(matchesEventPattern(pattern, event)).toBe(matches);
  });
}

/** Rows sharing one pattern: [name, detail, matches]. */
function rows(pattern: unknown, table: ReadonlyArray<[string, Record<string, unknown>, boolean]>): Case[] {
  return table.map(([name, detail, matches]) => ({ name, pattern: { detail: pattern }, event: busEvent(detail), matches }));
}

describe('comparison operators table', () => {
  checkAll([
    ...rows({ Location: ['New York'], Day: ['Monday'] }, [
      ['And: both fields equal', { Location: 'New York', Day: 'Monday' }, true],
      ['And: one field differs', { Location: 'New York', Day: 'Tuesday' }, false],
    ]),
    ...rows({ state: [{ 'anything-but': 'initializing' }] }, [
      ['Anything-but: running', { state: 'running' }, true],
      ['Anything-but: initializing', { state: 'initializing' }, false],
    ]),
    ...rows({ Region: [{ 'anything-but': { prefix: 'us-' } }] }, [
      ['Anything-but (begins with): eu-west-1', { Region: 'eu-west-1' }, true],
      ['Anything-but (begins with): us-east-1', { Region: 'us-east-1' }, false],
    ]),
    ...rows({ FileName: [{ 'anything-but': { suffix: '.png' } }] }, [
      ['Anything-but (ends with): photo.jpg', { FileName: 'photo.jpg' }, true],
      ['Anything-but (ends with): photo.png', { FileName: 'photo.png' }, false],
    ]),
    ...rows({ state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, [
      ['Anything-but (ignore case): running', { state: 'running' }, true],
      ['Anything-but (ignore case): INITIALIZING', { state: 'INITIALIZING' }, false],
    ]),
    ...rows({ FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, [
      ['Anything-but using a wildcard: /usr/bin/env', { FilePath: '/usr/bin/env' }, true],
      ['Anything-but using a wildcard: /usr/lib/libc.so', { FilePath: '/usr/lib/libc.so' }, false],
    ]),
    ...rows({ Region: [{ prefix: 'us-' }] }, [
      ['Begins with: us-east-1', { Region: 'us-east-1' }, true],
      ['Begins with: eu-west-1', { Region: 'eu-west-1' }, false],
    ]),
    ...rows({ service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }, [
      ['Begins with (ignore case): EventBridge', { service: 'EventBridge' }, true],
      ['Begins with (ignore case): Lambda', { service: 'Lambda' }, false],
    ]),
    ...rows({ LastName: [''] }, [
      ['Empty: empty string', { LastName: '' }, true],
      ['Empty: a name', { LastName: 'Doe' }, false],
    ]),
    ...rows({ Name: ['Alice'] }, [
      ['Equals: Alice', { Name: 'Alice' }, true],
      ['Equals is case-sensitive: alice', { Name: 'alice' }, false],
    ]),
    ...rows({ Name: [{ 'equals-ignore-case': 'alice' }] }, [
      ['Equals (ignore case): ALICE', { Name: 'ALICE' }, true],
      ['Equals (ignore case): Alicia', { Name: 'Alicia' }, false],
    ]),
    ...rows({ FileName: [{ suffix: '.png' }] }, [
      ['Ends with: photo.png', { FileName: 'photo.png' }, true],
      ['Ends with: photo.PNG', { FileName: 'photo.PNG' }, false],
    ]),
    ...rows({ service: [{ suffix: { 'equals-ignore-case': 'tBridge' } }] }, [
      ['Ends with (ignore case): EventBridge', { service: 'EventBridge' }, true],
      ['Ends with (ignore case): EventBus', { service: 'EventBus' }, false],
    ]),
    ...rows({ ProductName: [{ exists: true }] }, [
      ['Exists: present', { ProductName: 'Widget' }, true],
      ['Exists: missing', { Price: 5 }, false],
    ]),
    ...rows({ ProductName: [{ exists: false }] }, [
      ['Does not exist: missing', { Price: 5 }, true],
      ['Does not exist: present', { ProductName: 'Widget' }, false],
    ]),
    ...rows({ Weather: [{ 'anything-but': ['Raining'] }] }, [
      ['Not: Sunny', { Weather: 'Sunny' }, true],
      ['Not: Raining', { Weather: 'Raining' }, false],
    ]),
    ...rows({ UserID: [null] }, [
      ['Null: null', { UserID: null }, true],
      ['Null: a value', { UserID: 'u-1' }, false],
    ]),
    ...rows({ Price: [{ numeric: ['=', 100] }] }, [
      ['Numeric (equals): 100', { Price: 100 }, true],
      ['Numeric (equals): 100.0 is the same number', { Price: 100.0 }, true],
      ['Numeric (equals): 101', { Price: 101 }, false],
      ['Numeric (equals): the string "100" is not a number', { Price: '100' }, false],
    ]),
    ...rows({ Price: [{ numeric: ['>', 10, '<=', 20] }] }, [
      ['Numeric (range): 20 is inside (10, 20]', { Price: 20 }, true],
      ['Numeric (range): 10 is outside (10, 20]', { Price: 10 }, false],
      ['Numeric (range): 20.5 is outside', { Price: 20.5 }, false],
    ]),
    ...rows({ PaymentType: ['Credit', 'Debit'] }, [
      ['Or: Debit', { PaymentType: 'Debit' }, true],
      ['Or: Cash', { PaymentType: 'Cash' }, false],
    ]),
    ...rows({ $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] }, [
      ['Or (multiple fields): Location only', { Location: 'New York', Day: 'Friday' }, true],
      ['Or (multiple fields): Day only', { Location: 'Boston', Day: 'Monday' }, true],
      ['Or (multiple fields): neither', { Location: 'Boston', Day: 'Friday' }, false],
    ]),
    ...rows({ FileName: [{ wildcard: 'dir/*.png' }] }, [
      ['Wildcard: dir/photo.png', { FileName: 'dir/photo.png' }, true],
      ['Wildcard: dir/sub/photo.png (* crosses "/")', { FileName: 'dir/sub/photo.png' }, true],
      ['Wildcard: other/photo.png', { FileName: 'other/photo.png' }, false],
    ]),
    ...rows({ sourceIPAddress: [{ cidr: '10.0.0.0/24' }] }, [
      ['IP address: 10.0.0.255', { sourceIPAddress: '10.0.0.255' }, true],
      ['IP address: 10.0.1.0', { sourceIPAddress: '10.0.1.0' }, false],
    ]),
  ]);
});

describe('content filtering', () => {
  describe('prefix and suffix', () => {
    checkAll([
      { name: 'time starts with 2017-10-02', pattern: { time: [{ prefix: '2017-10-02' }] }, event: busEvent({}, { time: '2017-10-02T18:43:48Z' }), matches: true },
      { name: 'time on another day', pattern: { time: [{ prefix: '2017-10-02' }] }, event: busEvent({}, { time: '2017-10-03T18:43:48Z' }), matches: false },
      ...rows({ service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }, [
        ['prefix ignore case: eventbridge', { service: 'eventbridge' }, true],
        ['prefix ignore case: EVENTBUS', { service: 'EVENTBUS' }, true],
        ['prefix ignore case: Event is too short', { service: 'Event' }, false],
      ]),
      ...rows({ FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] }, [
        ['suffix ignore case: image.PNG', { FileName: 'image.PNG' }, true],
        ['suffix ignore case: image.png.gz', { FileName: 'image.png.gz' }, false],
      ]),
      ...rows({ FileName: [{ prefix: '' }] }, [
        ['prefix "" matches any string', { FileName: 'x' }, true],
        ['string operators never match numbers', { FileName: 7 }, false],
      ]),
    ]);
  });

  describe('anything-but', () => {
    checkAll([
      ...rows({ 'x-limit': [{ 'anything-but': 123 }] }, [
        ['number: 456', { 'x-limit': 456 }, true],
        ['number: 123', { 'x-limit': 123 }, false],
        ['number: the string "123" is not the number', { 'x-limit': '123' }, true],
      ]),
      ...rows({ state: [{ 'anything-but': ['stopped', 'overloaded'] }] }, [
        ['string list: running', { state: 'running' }, true],
        ['string list: overloaded', { state: 'overloaded' }, false],
      ]),
      ...rows({ 'x-limit': [{ 'anything-but': [100, 200, 300] }] }, [
        ['number list: 150', { 'x-limit': 150 }, true],
        ['number list: 200', { 'x-limit': 200 }, false],
      ]),
      ...rows({ state: [{ 'anything-but': { prefix: 'init' } }] }, [
        ['prefix: running', { state: 'running' }, true],
        ['prefix: initializing', { state: 'initializing' }, false],
        ['prefix: numbers are never excluded by a string form', { state: 12 }, true],
      ]),
      ...rows({ FileName: [{ 'anything-but': { suffix: '.txt' } }] }, [
        ['suffix: notes.md', { FileName: 'notes.md' }, true],
        ['suffix: notes.txt', { FileName: 'notes.txt' }, false],
      ]),
      ...rows({ Region: [{ 'anything-but': { prefix: ['us-', 'eu-'] } }] }, [
        ['prefix list: ap-south-1', { Region: 'ap-south-1' }, true],
        ['prefix list: eu-west-1', { Region: 'eu-west-1' }, false],
      ]),
      ...rows({ state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] }, [
        ['ignore-case list: running', { state: 'running' }, true],
        ['ignore-case list: STOPPED', { state: 'STOPPED' }, false],
      ]),
      ...rows({ FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] }, [
        ['wildcard list: /etc/hosts', { FilePath: '/etc/hosts' }, true],
        ['wildcard list: /usr/bin/env', { FilePath: '/usr/bin/env' }, false],
      ]),
      ...rows({ state: [{ 'anything-but': 'initializing' }] }, [
        ['matches null', { state: null }, true],
        ['needs the field to be present', { other: 'x' }, false],
        ['array: matches if any element is not excluded', { state: ['initializing', 'running'] }, true],
        ['array: every element excluded', { state: ['initializing'] }, false],
      ]),
    ]);
  });

  describe('numeric', () => {
    const pattern = {
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ numeric: ['=', 3.018e2] }],
    };
    checkAll(
      rows(pattern, [
        ['all in range', { 'c-count': 5, 'd-count': 9.99, 'x-limit': 301.8 }, true],
        ['c-count 0 is not > 0', { 'c-count': 0, 'd-count': 9, 'x-limit': 301.8 }, false],
        ['d-count 10 is not < 10', { 'c-count': 1, 'd-count': 10, 'x-limit': 301.8 }, false],
        ['x-limit 301.9 is not 3.018e2', { 'c-count': 1, 'd-count': 1, 'x-limit': 301.9 }, false],
        ['numbers in strings are not numbers', { 'c-count': '1', 'd-count': 1, 'x-limit': 301.8 }, false],
        ['negative numbers compare numerically', { 'c-count': 0.5, 'd-count': -1e9, 'x-limit': 301.8 }, true],
      ]),
    );
  });

  describe('IP address (cidr)', () => {
    checkAll([
      ...rows({ sourceIPAddress: [{ cidr: '10.0.0.0/24' }] }, [
        ['IPv4: network address', { sourceIPAddress: '10.0.0.0' }, true],
        ['IPv4: not an IP address', { sourceIPAddress: 'localhost' }, false],
      ]),
      ...rows({ sourceIPAddress: [{ cidr: '2001:db8::/32' }] }, [
        ['IPv6: inside, in any notation', { sourceIPAddress: '2001:DB8:0:0:0:0:0:1' }, true],
        ['IPv6: next block', { sourceIPAddress: '2001:db9::1' }, false],
        ['IPv6 range never matches an IPv4 address', { sourceIPAddress: '10.0.0.1' }, false],
      ]),
      ...rows({ sourceIPAddress: ['2001:db8::1'] }, [
        ['an exact IP address matches the same address written differently', { sourceIPAddress: '2001:0db8:0:0::1' }, true],
        ['an exact IP address does not match another one', { sourceIPAddress: '2001:db8::2' }, false],
      ]),
    ]);
  });

  describe('exists', () => {
    checkAll([
      ...rows({ state: [{ exists: true }] }, [
        ['exists: a string', { state: 'running' }, true],
        ['exists: null is a value', { state: null }, true],
        ['exists only looks at leaves: an object is not one', { state: { name: 'running' } }, false],
        ['exists: an empty array has no leaf', { state: [] }, false],
      ]),
      ...rows({ state: [{ exists: false }] }, [
        ['does not exist: missing', { other: 1 }, true],
        ['does not exist: null is present', { state: null }, false],
        ['does not exist: holds for an object, which is not a leaf', { state: { name: 'running' } }, true],
        ['does not exist: holds for an empty array', { state: [] }, true],
      ]),
      { name: 'exists:false on an envelope field', pattern: { source: [{ exists: false }] }, event: busEvent({}), matches: false },
    ]);
  });

  describe('equals-ignore-case', () => {
    checkAll([
      {
        name: 'detail-type in lower case',
        pattern: { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] },
        event: busEvent({}),
        matches: true,
      },
      {
        name: 'detail-type differs beyond case',
        pattern: { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state change notification' }] },
        event: busEvent({}),
        matches: false,
      },
      ...rows({ word: [{ 'equals-ignore-case': 'straße' }] }, [
        ['full case mapping: ß upper-cases to SS', { word: 'STRASSE' }, true],
        ['full case mapping: not a prefix match', { word: 'STRASSEN' }, false],
      ]),
      ...rows({ unit: [{ 'equals-ignore-case': '\u212A' }] }, [
        ['KELVIN SIGN lower-cases to k', { unit: 'k' }, true],
        ['KELVIN SIGN is not x', { unit: 'x' }, false],
      ]),
      ...rows({ letter: [{ 'equals-ignore-case': '\u03B0' }] }, [
        ['ΰ matches its three-code-point upper case', { letter: '\u03A5\u0308\u0301' }, true],
        ['ΰ does not match plain Υ', { letter: '\u03A5' }, false],
      ]),
    ]);
  });

  describe('wildcard', () => {
    checkAll([
      ...rows({ EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] }, [
        ['any account, any bus', { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/orders' }, true],
        ['other region', { EventBusArn: 'arn:aws:events:us-west-2:123456789012:event-bus/orders' }, false],
      ]),
      ...rows({ name: [{ wildcard: 'he*o' }] }, [
        ['* matches a run', { name: 'hello' }, true],
        ['* matches the empty run', { name: 'heo' }, true],
        ['anchored at both ends', { name: 'hello!' }, false],
        ['case-sensitive', { name: 'HELLO' }, false],
      ]),
      ...rows({ name: [{ wildcard: 'file\\*.txt' }] }, [
        ['\\* is a literal asterisk', { name: 'file*.txt' }, true],
        ['\\* is not a wildcard', { name: 'file1.txt' }, false],
      ]),
      ...rows({ path: [{ wildcard: 'C:\\\\*' }] }, [
        ['\\\\ is a literal backslash', { path: 'C:\\Windows' }, true],
        ['\\\\ needs the backslash', { path: 'C:Windows' }, false],
      ]),
    ]);
  });

  describe('$or', () => {
    const numericOr = {
      $or: [
        { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
        { 'd-count': [{ numeric: ['<', 10] }] },
        { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
      ],
    };
    const metricsOr = {
      source: ['aws.cloudwatch'],
      detail: { $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] },
    };
    const cloudWatch = (detail: Record<string, unknown>) => busEvent(detail, { source: 'aws.cloudwatch' });
    checkAll([
      ...rows(numericOr, [
        ['one of three: c-count', { 'c-count': 3 }, true],
        ['one of three: x-limit', { 'x-limit': 301.8 }, true],
        ['none of three', { 'c-count': 6, 'd-count': 10, 'x-limit': 1 }, false],
      ]),
      { name: 'AND with $or: CPUUtilization', pattern: metricsOr, event: cloudWatch({ metricName: 'CPUUtilization' }), matches: true },
      { name: 'AND with $or: namespace AWS/ES', pattern: metricsOr, event: cloudWatch({ namespace: 'AWS/ES' }), matches: true },
      { name: 'AND with $or: no branch', pattern: metricsOr, event: cloudWatch({ metricName: 'DiskReadOps' }), matches: false },
      { name: 'AND with $or: wrong source', pattern: metricsOr, event: busEvent({ metricName: 'CPUUtilization' }), matches: false },
      ...rows(
        {
          $or: [
            { metricName: ['CPUUtilization'] },
            { $or: [{ metricType: ['MetricType'] }, { namespace: ['AWS/EC2'] }] },
          ],
        },
        [
          ['nested $or: inner branch', { metricType: 'MetricType' }, true],
          ['nested $or: no branch', { metricType: 'Other', namespace: 'AWS/ES' }, false],
        ],
      ),
    ]);
  });
});

describe('null values and empty strings', () => {
  const detail = { eventVersion: '', responseElements: null };
  checkAll([
    ...rows({ responseElements: [null] }, [
      ['null matches null', detail, true],
      ['null does not match a missing field', { eventVersion: '' }, false],
      ['null does not match the string "null"', { responseElements: 'null' }, false],
    ]),
    ...rows({ eventVersion: [''] }, [
      ['empty string matches empty string', detail, true],
      ['empty string does not match null', { eventVersion: null }, false],
    ]),
    ...rows({ count: [100] }, [
      ['a number matches the same number', { count: 100 }, true],
      ['a number does not match its string form', { count: '100' }, false],
    ]),
    ...rows({ flag: [true] }, [
      ['true matches the boolean', { flag: true }, true],
      ['true does not match the string "true"', { flag: 'true' }, false],
    ]),
  ]);
});

describe('arrays', () => {
  const resources = [
    'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
    'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
    'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
  ];
  const event = busEvent({}, { resources });
  checkAll([
    {
      name: 'pattern list and event array intersect',
      pattern: { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:ec2:us-east-1:999999999999:instance/i-x'] },
      event,
      matches: true,
    },
    {
      name: 'pattern list and event array are disjoint',
      pattern: { resources: ['arn:aws:ec2:us-east-1:999999999999:instance/i-x'] },
      event,
      matches: false,
    },
    ...rows({ ids: [{ numeric: ['>', 9000] }] }, [
      ['arrays of arrays are flattened', { ids: [[1, 2], [9999]] }, true],
      ['no element in range', { ids: [[1, 2], [3]] }, false],
    ]),
    ...rows({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, [
      ['arrays of objects: both fields from one element', { employees: [{ firstName: 'John', lastName: 'Doe' }, { firstName: 'Anna', lastName: 'Smith' }] }, true],
      ['array consistency: fields from different elements', { employees: [{ firstName: 'Anna', lastName: 'Doe' }, { firstName: 'John', lastName: 'Smith' }] }, false],
      ['array consistency: each element has only one of the fields', { employees: [{ firstName: 'Anna' }, { lastName: 'Smith' }] }, false],
    ]),
    ...rows({ employees: { firstName: ['Anna'], ids: [{ exists: false }] } }, [
      ['array consistency: Anna has no ids', { employees: [{ firstName: 'John', ids: [1] }, { firstName: 'Anna' }] }, true],
      ['array consistency: Anna has ids', { employees: [{ firstName: 'John' }, { firstName: 'Anna', ids: [1] }] }, false],
    ]),
  ]);
});

describe('event pattern structure', () => {
  const ec2Running = { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['running'] } };
  checkAll([
    { name: 'envelope and detail fields', pattern: ec2Running, event: busEvent({ 'instance-id': 'i-1', state: 'running' }), matches: true },
    { name: 'detail field differs', pattern: ec2Running, event: busEvent({ 'instance-id': 'i-1', state: 'stopped' }), matches: false },
    { name: 'field missing from the event', pattern: ec2Running, event: busEvent({ 'instance-id': 'i-1' }), matches: false },
    { name: 'a pattern field needs the same nesting', pattern: { state: ['running'] }, event: busEvent({ state: 'running' }), matches: false },
  ]);

  it('compiles once and matches many events', () => {
    const rule = compileEventPattern({ detail: { state: ['running'] } });
    expect(rule.matches(busEvent({ state: 'running' }))).toBe(true);
    expect(rule.matches(busEvent({ state: 'pending' }))).toBe(false);
  });

  it('rejects an event that is not a JSON object', () => {
    expect(() => compileEventPattern({ source: ['x'] }).matches('not an event')).toThrow(TypeError);
  });
});

describe('pattern validation', () => {
  const invalid: ReadonlyArray<[string, unknown, RegExp]> = [
    ['pattern is not an object', ['aws.ec2'], /must be a JSON object/],
    ['pattern is null', null, /must be a JSON object/],
    ['empty pattern', {}, /empty objects/],
    ['leaf is a string, not an array', { source: 'aws.ec2' }, /"source".*must be an object or an array/],
    ['leaf is an empty array', { source: [] }, /empty arrays/],
    ['nested array as a value', { source: [['aws.ec2']] }, /match values must be/],
    ['unknown operator', { source: [{ contains: 'ec2' }] }, /unknown operator "contains"/],
    ['operator object with two keys', { source: [{ prefix: 'a', suffix: 'b' }] }, /exactly one key/],
    ['prefix of a number', { source: [{ prefix: 1 }] }, /"prefix" needs a string/],
    ['prefix with an unsupported inner operator', { source: [{ prefix: { suffix: 'x' } }] }, /only "equals-ignore-case"/],
    ['numeric is not an array', { n: [{ numeric: 5 }] }, /"numeric" must be an array/],
    ['numeric operand is a string', { n: [{ numeric: ['>', '5'] }] }, /finite number/],
    ['numeric operator unknown', { n: [{ numeric: ['!=', 5] }] }, /unknown numeric operator/],
    ['numeric range upper bound first', { n: [{ numeric: ['<', 5, '>', 1] }] }, /too many terms/],
    ['numeric range reversed', { n: [{ numeric: ['>', 5, '<', 1] }] }, /lower bound .* less than the upper bound/],
    ['numeric range continues with =', { n: [{ numeric: ['>', 1, '=', 5] }] }, /continues with "<" or "<="/],
    ['numeric with too many terms', { n: [{ numeric: ['=', 5, 6] }] }, /too many terms/],
    ['cidr without a prefix length', { ip: [{ cidr: '10.0.0.0' }] }, /one "\/" required/],
    ['cidr with a bad address', { ip: [{ cidr: '300.0.0.0/8' }] }, /invalid IP address/],
    ['cidr with a non-numeric prefix length', { ip: [{ cidr: '10.0.0.0/x' }] }, /prefix length/],
    ['cidr with a prefix length too long', { ip: [{ cidr: '10.0.0.0/32' }] }, /prefix length must be 0 to 31/],
    ['wildcard with consecutive *', { f: [{ wildcard: 'a**b' }] }, /consecutive wildcard/],
    ['wildcard with an invalid escape', { f: [{ wildcard: 'a\\b' }] }, /invalid escape/],
    ['exists that is not a boolean', { f: [{ exists: 'true' }] }, /"exists" must be true or false/],
    ['anything-but of mixed types', { f: [{ 'anything-but': ['a', 1] }] }, /only strings or only numbers/],
    ['anything-but of null', { f: [{ 'anything-but': null }] }, /only strings or only numbers/],
    ['anything-but with an empty list', { f: [{ 'anything-but': [] }] }, /at least one value/],
    ['anything-but with an empty prefix', { f: [{ 'anything-but': { prefix: '' } }] }, /cannot be empty/],
    ['anything-but with an unsupported form', { f: [{ 'anything-but': { exists: true } }] }, /does not support "exists"/],
    ['anything-but equals-ignore-case of a number', { f: [{ 'anything-but': { 'equals-ignore-case': 1 } }] }, /needs a string/],
    ['$or with one branch', { $or: [{ a: ['1'] }] }, /at least two objects/],
    ['$or that is not an array', { $or: { a: ['1'] } }, /at least two objects/],
    ['$or with a non-object branch', { $or: [{ a: ['1'] }, 'b'] }, /must be an object/],
    ['operator name used as a field inside $or', { $or: [{ prefix: ['1'] }, { b: ['2'] }] }, /reserved word/],
  ];

  it.each(invalid)('%s', (_name, pattern, message) => {
    expect(() => compileEventPattern(pattern)).toThrow(InvalidEventPatternError);
    expect(() => compileEventPattern(pattern)).toThrow(message);
  });

  it('reports the dotted path of the offending field', () => {
    const error = (() => {
      try {
        compileEventPattern({ detail: { state: [{ numeric: ['>', 'x'] }] } });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect(error).toMatchObject({ name: 'InvalidEventPatternError', path: 'detail.state' });
  });

  it('accepts operator names as ordinary field names outside $or', () => {
    expect(matchesEventPattern({ detail: { prefix: ['x'] } }, busEvent({ prefix: 'x' }))).toBe(true);
  });
});
