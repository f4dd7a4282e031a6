import { jsonTextTooDeep, MAX_JSON_DEPTH } from '@app/common';
import { Decoder, Encoder } from 'socket.io-parser';

/** What a too deeply nested event payload is replaced with; the gateway answers it with `validation_failed`. */
export const TOO_DEEP_PAYLOAD = '\u0000confab:json-too-deep';

const EVENT = '2';
/** `<type>[<attachments>-][<nsp>,][<id>]` then the JSON array `[event, ...args]`. */
const EVENT_NAME = /^\[\s*("(?:[^"\\]|\\.)*")/;

/**
 * Socket.IO's decoder with a depth limit, checked on the packet text before JSON.parse. Without it a nested payload
 * either overflowed V8's JSON.parse (the connection dropped with no answer) or reached class-transformer's recursion.
 * A too deep event keeps its name and ack id but carries TOO_DEEP_PAYLOAD, so the client gets a validation ack;
 * anything else too deep (a handshake, an ack) is refused like any malformed packet.
 */
class DepthLimitedDecoder extends Decoder {
  override add(packet: unknown): void {
    if (typeof packet === 'string' && jsonTextTooDeep(packet, MAX_JSON_DEPTH + 1)) {
      const jsonStart = packet.indexOf('[');
      const name = jsonStart > 0 && packet[0] === EVENT ? EVENT_NAME.exec(packet.slice(jsonStart)) : null;
      if (!name) {
        throw new Error('packet nested too deeply');
      }
      super.add(`${packet.slice(0, jsonStart)}[${name[1]},${JSON.stringify(TOO_DEEP_PAYLOAD)}]`);
      return;
    }
    super.add(packet);
  }
}

/** The `parser` option of the Socket.IO server. */
export const depthLimitedParser = { Encoder, Decoder: DepthLimitedDecoder };
