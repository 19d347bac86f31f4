import DOMPurify from "dompurify";
import { marked } from "marked";
import { useMemo } from "react";

// Agent text is untrusted: rendered by marked, then sanitised by DOMPurify
// before it reaches the DOM.
export function Markdown({ text, testId }: { text: string; testId?: string }) {
  const html = useMemo(() => DOMPurify.sanitize(marked.parse(text, { async: false, gfm: true, breaks: false })), [text]);
  return <div className="markdown" data-testid={testId} dangerouslySetInnerHTML={{ __html: html }} />;
}
