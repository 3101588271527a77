export type RenderedMail = { text: string; html: string };

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const FONT = "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const MONO = "ui-monospace,'SF Mono',Menlo,Consolas,monospace";

/**
 * One plain message as text and HTML with the same content, so clients that show either (and
 * screen readers) get the same words. The code, when there is one, comes right after the first
 * paragraph, which should say what it is for; later paragraphs (expiry, "ignore this if it was
 * not you") follow it. Styles are inline because mail clients drop <style> blocks.
 */
export function renderMail(input: {
  title: string;
  paragraphs: readonly string[];
  code?: string;
}): RenderedMail {
  const [lead, ...rest] = input.paragraphs;
  const before = lead === undefined ? [] : [lead];

  const text = [
    input.title,
    ...before,
    ...(input.code === undefined ? [] : [`    ${input.code}`]),
    ...rest,
  ].join('\n\n');

  const paragraph = (value: string) =>
    `<p style="margin:0 0 16px;font-size:16px;line-height:1.5;">${escapeHtml(value)}</p>`;
  const code =
    input.code === undefined
      ? []
      : [
          `<p style="margin:0 0 16px;padding:12px 16px;background:#eef1f4;border-radius:6px;font-family:${MONO};font-size:28px;font-weight:700;letter-spacing:4px;text-align:center;color:#1f2328;">${escapeHtml(input.code)}</p>`,
        ];
  const title = escapeHtml(input.title);
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title></head>`,
    `<body style="margin:0;padding:24px;background:#f6f7f9;color:#1f2328;font-family:${FONT};">`,
    '<div style="max-width:560px;margin:0 auto;padding:32px;background:#ffffff;border-radius:8px;">',
    `<h1 style="margin:0 0 16px;font-size:22px;line-height:1.3;">${title}</h1>`,
    ...before.map(paragraph),
    ...code,
    ...rest.map(paragraph),
    '</div>',
    '</body>',
    '</html>',
  ].join('\n');

  return { text: `${text}\n`, html: `${html}\n` };
}
