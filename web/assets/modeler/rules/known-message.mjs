// A catch event (start, intermediate catch, boundary) or receive task waits for a message
// something delivers (engine.validation._check_messages): its name (or id) is one of the
// catalog's messages. Message event definitions of throw and end events are not checked.
import { catalogOf, elementOf, listed } from "./util.mjs";

const THROWN = new Set(["bpmn:IntermediateThrowEvent", "bpmn:EndEvent"]);

function messageName(ref) {
  return ref.$type === "bpmn:Message" ? ref.name || ref.id : ref.id;
}

export default function knownMessage(options) {
  const catalog = catalogOf(options);

  function unknown(owner, ref, reporter) {
    const name = messageName(ref);
    const element = elementOf(owner);
    if (!catalog.messages.has(name) && element) {
      reporter.report(element.id, `未知的消息“${name}”：没有任何功能会送达它（系统送达的消息: ` +
        `${listed(catalog.messages)}）`);
    }
  }

  function check(node, reporter) {
    if (!catalog.messages) { return; }
    if (node.$type === "bpmn:ReceiveTask" && node.messageRef) {
      unknown(node, node.messageRef, reporter);
    }
    // an event's definitions, or those written at the top of the file (named on the file's
    // definitions, as the server does)
    const definitions = node.$type === "bpmn:Definitions" ? node.rootElements : node.eventDefinitions;
    (definitions || []).forEach((definition) => {
      if (definition.$type === "bpmn:MessageEventDefinition" && definition.messageRef
          && !THROWN.has(node.$type)) {
        unknown(node, definition.messageRef, reporter);
      }
    });
  }
  return { check };
}
