// Holds HTTP responses against the OpenAPI document: is the status one the
// operation documents, does the body match its schema (Ajv, JSON Schema
// 2020-12 as OpenAPI 3.1 uses), are the required headers there and valid.
//
// Paths are matched the way bankd's router matches them (segments between
// slashes, empty ones ignored, {name} matching any one segment), so a
// response for a path the document does not have must be bankd's 404, and
// one for a method a known path does not have must be its 405 with an Allow
// header naming exactly the methods the document lists.

import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tools/npm/package.json', import.meta.url));
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const base = 'https://bankd.invalid/openapi.json';

const segments = (path) => path.split('/').filter((s) => s !== '');
const mediaType = (value) => (value ?? '').split(';')[0].trim().toLowerCase();
const describe = (errors) =>
  errors.map((e) => `${e.instancePath || '/'} ${e.message}${e.params?.allowedValues ? ': ' + e.params.allowedValues.join(', ') : ''}`).join('; ');
const pointer = (parts) => '#' + parts.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');

export class contract {
  constructor(doc) {
    this.doc = doc;
    this.ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addFormat('int64', { type: 'number', validate: Number.isInteger });
    // OpenAPI's own keywords: known to Ajv, so that it can resolve references
    // into the document, and ignored.
    this.ajv.addVocabulary(['example', 'openapi', 'info', 'servers', 'tags', 'paths', 'components', 'security', 'jsonSchemaDialect', 'webhooks', 'externalDocs']);
    this.ajv.addSchema({ ...doc, $id: base }, base);
    this.validators = new Map();
    this.seen = new Set();  // "METHOD /template status" checked so far
    this.paths = Object.keys(doc.paths).map((template) => ({ template, segments: segments(template) }));
  }

  // The object at `ref` ("#/components/..."), with its location.
  resolve(object, location) {
    let seen = 0;
    while (object && typeof object.$ref === 'string') {
      if (!object.$ref.startsWith('#/') || ++seen > 16) throw new Error(`cannot follow ${object.$ref}`);
      location = object.$ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      object = location.reduce((o, key) => o?.[key], this.doc);
    }
    return { object, location };
  }

  // Every "METHOD /template status" the document has.
  documented() {
    return Object.entries(this.doc.paths).flatMap(([template, item]) =>
      methods.filter((m) => item[m]).flatMap((m) =>
        Object.keys(item[m].responses).map((status) => `${m.toUpperCase()} ${template} ${status}`)));
  }

  schemaCheck(location) {
    const key = pointer(location);
    if (!this.validators.has(key)) this.validators.set(key, this.ajv.compile({ $ref: base + key }));
    return this.validators.get(key);
  }

  findPath(target) {
    const wanted = segments(target.split('?')[0]);
    return this.paths.find(({ segments: p }) =>
      p.length === wanted.length && p.every((s, i) => (s.startsWith('{') && s.endsWith('}')) || s === wanted[i]));
  }

  // `x`: {method, target, status, headers (lower-case names), body (string or
  // undefined when not recorded)}. Returns a list of problems, empty if none.
  check(x) {
    const path = this.findPath(x.target);
    if (!path) return this.checkResponse(x, this.resolve({ $ref: '#/components/responses/NoSuchPath' }, []), 404, 'no such path');
    const item = this.doc.paths[path.template];
    const method = x.method.toLowerCase();
    if (!item[method]) {
      const problems = this.checkResponse(x, this.resolve({ $ref: '#/components/responses/MethodNotAllowed' }, []), 405, 'no such method');
      const documented = methods.filter((m) => item[m]).map((m) => m.toUpperCase()).sort().join(', ');
      const allowed = (x.headers.allow ?? '').split(',').map((m) => m.trim()).sort().join(', ');
      if (x.status === 405 && allowed !== documented)
        problems.push(`Allow is "${x.headers.allow}", the document has ${documented} for ${path.template}`);
      return problems;
    }
    const operation = item[method];
    const where = ['paths', path.template, method, 'responses'];
    const responses = operation.responses;
    const key = responses[String(x.status)] ? String(x.status)
      : responses[`${String(x.status)[0]}XX`] ? `${String(x.status)[0]}XX` : responses.default ? 'default' : undefined;
    if (!key) {
      return [`${x.status} is not a documented status of ${method.toUpperCase()} ${path.template} (documented: ${Object.keys(responses).join(', ')})`];
    }
    this.seen.add(`${method.toUpperCase()} ${path.template} ${key}`);
    return this.checkResponse(x, this.resolve(responses[key], [...where, key]), x.status, `${method.toUpperCase()} ${path.template} ${key}`);
  }

  checkResponse(x, { object: response, location }, expectedStatus, name) {
    const problems = [];
    if (x.status !== expectedStatus) problems.push(`status ${x.status}, expected ${expectedStatus} (${name})`);
    for (const [header, spec] of Object.entries(response.headers ?? {})) {
      const { object: h, location: at } = this.resolve(spec, [...location, 'headers', header]);
      const value = x.headers[header.toLowerCase()];
      if (value === undefined) {
        if (h.required) problems.push(`${name}: required header ${header} is missing`);
        continue;
      }
      const typed = h.schema?.type === 'integer' && /^-?[0-9]+$/.test(value) ? Number(value) : value;
      const valid = this.schemaCheck([...at, 'schema']);
      if (!valid(typed)) problems.push(`${name}: header ${header}: "${value}": ${describe(valid.errors)}`);
    }
    const content = response.content ?? {};
    const types = Object.keys(content);
    if (types.length === 0) {
      if (x.body_bytes > 0) problems.push(`${name}: documented without a body, got ${x.body_bytes} bytes`);
      return problems;
    }
    const got = mediaType(x.headers['content-type']);
    const type = types.find((t) => mediaType(t) === got);
    if (!type) {
      problems.push(`${name}: Content-Type "${x.headers['content-type']}" is not one of ${types.join(', ')}`);
      return problems;
    }
    if (got !== 'application/json' || x.body === undefined) return problems;
    let body;
    try {
      body = JSON.parse(x.body);
    } catch (e) {
      problems.push(`${name}: the body is not JSON: ${e.message}`);
      return problems;
    }
    const valid = this.schemaCheck([...location, 'content', type, 'schema']);
    if (!valid(body)) problems.push(`${name}: body ${describe(valid.errors)}`);
    return problems;
  }
}
