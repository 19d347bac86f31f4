import { useEffect, useState } from "react";
import { type Client, type Frame, errorText } from "./gateway";
import { applyAll, emptyTranscript, type Transcript } from "./transcript";

export interface Feed {
  transcript: Transcript;
  state?: string;
  loading: boolean;
  error?: string;
}

const PAGE = 1000;

// useSessionFeed joins a session and keeps its transcript: the history up
// to the join (get_events pages), then the live events, merged by seq.
// Live events that arrive while history is loading, or after a gap, wait
// in a buffer until get_events has filled everything before them.
export function useSessionFeed(client: Client, sessionId: string): Feed {
  const [feed, setFeed] = useState<Feed>({ transcript: emptyTranscript(), loading: true });

  useEffect(() => {
    let alive = true;
    let cur = emptyTranscript();
    let epoch = "";
    let syncing = true; // until the first fill is done
    let filled = false; // the last fill reached the end
    let buffer: Frame[] = [];
    const publish = (patch: Partial<Feed>) => alive && setFeed((f) => ({ ...f, ...patch, transcript: cur }));

    // sync fills from the last applied seq to the end, then drains the buffer.
    const sync = async () => {
      syncing = true;
      try {
        for (;;) {
          const page = await client.getEvents(sessionId, cur.lastSeq, PAGE);
          cur = applyAll(cur, page.events as unknown as Frame[]);
          if (page.hasMore && page.events.length > 0) continue;
          // The buffered live events follow on unless some were missed
          // meanwhile; then the next page fetches what lies between.
          buffer = buffer.filter((b) => (b.seq as number) > cur.lastSeq).sort((a, b) => (a.seq as number) - (b.seq as number));
          let n = 0;
          while (n < buffer.length && (buffer[n].seq as number) <= cur.lastSeq + 1 + n) n++;
          cur = applyAll(cur, buffer.slice(0, n));
          buffer = buffer.slice(n);
          if (buffer.length === 0) break;
        }
        filled = true;
        publish({ loading: false, error: undefined });
      } catch (err) {
        filled = false; // the next snapshot (after a reconnect) tries again
        publish({ loading: false, error: errorText(err) });
      } finally {
        syncing = false;
      }
    };

    const off = client.on((raw) => {
      const e = raw as unknown as Frame;
      if (e.sessionId !== sessionId) return;
      if (e.type === "state_snapshot" || e.type === "session_state") {
        publish({ state: e.state as string });
        if (e.type === "state_snapshot" && !syncing) {
          if (e.epoch && e.epoch !== epoch) {
            // Another event stream: what we hold cannot be continued.
            epoch = e.epoch as string;
            cur = emptyTranscript();
            buffer = [];
            void sync();
          } else if (e.replayComplete === false || !filled) {
            void sync();
          }
        }
        return;
      }
      if (typeof e.seq !== "number") return;
      if (syncing) {
        buffer.push(e);
        return;
      }
      if (e.seq > cur.lastSeq + 1) {
        buffer.push(e); // a gap: fetch what lies before it first
        void sync();
        return;
      }
      cur = applyAll(cur, [e]);
      publish({});
    });

    (async () => {
      try {
        const snap = await client.join(sessionId);
        epoch = snap.epoch;
        publish({ state: snap.state });
        await sync();
      } catch (err) {
        // Not joined: the client joins again after a reconnect, and that
        // snapshot starts the fill.
        syncing = false;
        publish({ loading: false, error: errorText(err) });
      }
    })();

    return () => {
      alive = false;
      off();
      client.leave(sessionId).catch(() => {});
    };
  }, [client, sessionId]);

  return feed;
}
