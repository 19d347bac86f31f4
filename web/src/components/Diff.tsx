import { diffLines } from "diff";
import { useMemo } from "react";

// Diff shows after against before line by line, unified style.
export function Diff({ before, after, testId = "file-diff" }: { before: string; after: string; testId?: string }) {
  const parts = useMemo(() => diffLines(before, after), [before, after]);
  const added = parts.filter((p) => p.added).reduce((n, p) => n + (p.count ?? 0), 0);
  const removed = parts.filter((p) => p.removed).reduce((n, p) => n + (p.count ?? 0), 0);
  return (
    <div className="diff" data-testid={testId}>
      <div className="diff-stat">
        <span className="diff-add">+{added}</span> <span className="diff-del">−{removed}</span>
      </div>
      <pre>
        {parts.flatMap((p, i) =>
          p.value
            .replace(/\n$/, "")
            .split("\n")
            .map((line, j) => (
              <div
                key={`${i}-${j}`}
                className={p.added ? "diff-line diff-add" : p.removed ? "diff-line diff-del" : "diff-line"}
                data-diff={p.added ? "add" : p.removed ? "del" : "same"}
              >
                {p.added ? "+ " : p.removed ? "- " : "  "}
                {line}
              </div>
            )),
        )}
      </pre>
    </div>
  );
}
