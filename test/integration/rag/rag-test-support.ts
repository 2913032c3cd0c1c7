/** Helpers for the RAG integration tests: multipart bodies and small documents. */
import { randomBytes } from 'node:crypto';

/** A multipart/form-data body with one file part and optional text fields. */
export function multipartBody(
  file: { bytes: Uint8Array; filename: string; contentType: string },
  fields: Record<string, string> = {},
): { body: Buffer; headers: Record<string, string> } {
  const boundary = `----tenantml${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\nContent-Type: ${file.contentType}\r\n\r\n`),
    Buffer.from(file.bytes),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const TOPICS = ['invoices', 'shipping', 'refunds', 'warranty', 'onboarding', 'security', 'pricing', 'support', 'returns', 'billing'];
const FILLER = 'The policy describes how the team handles each request from customers and partners in every region we serve.';

/** A Markdown document of `sections` sections, each naming a topic and carrying `canary`. */
export function markdownWithCanary(canary: string, sections = 3): string {
  const out: string[] = [];
  for (let i = 0; i < sections; i++) {
    const topic = TOPICS[i % TOPICS.length]!;
    out.push(`# ${topic} guide ${i}`, '', `${FILLER} Section about ${topic}: reference code ${canary} applies to ${topic} number ${i}.`, '');
  }
  return out.join('\n');
}

/** Query words that hit many documents (lexically and by embedding). */
export const COMMON_QUERIES = [
  ...TOPICS.map((t) => `how are ${t} handled`),
  'reference code',
  'policy for customers',
  '"every region" -partners',
  'team request or region',
  'what applies to number 1',
];
