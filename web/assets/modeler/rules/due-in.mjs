// A user task's time limit (property dueIn) is an ISO 8601 duration, as the server decides it
// (engine.validation._is_duration): SpiffWorkflow's TimerEventDefinition.parse_iso_duration,
// ported step by step below, and a leading "P". That parser is lenient in its own ways ("P",
// "p5d" and "P5DP" pass; "P1W2D" and "P1DT" do not), so a regular expression would disagree
// with the server; the port does not.
import { propertyValues } from "./util.mjs";

const DECIMAL = /^\p{Nd}$/u;
// What Python's str.isdigit() also takes but int() and float() refuse (Numeric_Type=Digit:
// superscripts, circled digits, …), from Python's unicodedata.
const DIGIT_ONLY = /^[\u{b2}-\u{b3}\u{b9}\u{1369}-\u{1371}\u{19da}\u{2070}\u{2074}-\u{2079}\u{2080}-\u{2089}\u{2460}-\u{2468}\u{2474}-\u{247c}\u{2488}-\u{2490}\u{24ea}\u{24f5}-\u{24fd}\u{24ff}\u{2776}-\u{277e}\u{2780}-\u{2788}\u{278a}-\u{2792}\u{10a40}-\u{10a43}\u{10e60}-\u{10e68}\u{11052}-\u{1105a}\u{1f100}-\u{1f10a}]$/u;
const DESIGNATORS = ["years", "months", "weeks", "days", "t", "hours", "minutes", "seconds"];
const DATE_SPECS = ["years", "months", "days"];
const TIME_SPECS = ["hours", "minutes", "seconds"];

// Python's str.isdigit(), and whether int() (or float(), once its one dot is removed) takes
// the digits.
function isdigit(text) {
  const chars = Array.from(text);
  return chars.length > 0 && chars.every((c) => DECIMAL.test(c) || DIGIT_ONLY.test(c));
}

function decimal(text) {
  return Array.from(text).every((c) => DECIMAL.test(c));
}

// Python's str.strip(chars) for one character.
function strip(text, char) {
  let start = 0;
  let end = text.length;
  while (start < end && text[start] === char) { start += 1; }
  while (end > start && text[end - 1] === char) { end -= 1; }
  return text.slice(start, end);
}

// parse_iso_duration: whether it returns rather than raises.
function parses(expression) {
  const parsed = new Set();
  let exprT = false;
  let current = strip(expression.toLowerCase(), "p").split(",").join(".");
  for (const designator of DESIGNATORS) {
    const at = current.indexOf(designator[0]);
    if (at < 0) { continue; }
    const duration = current.slice(0, at);
    const remainder = current.slice(at + 1);
    const digits = duration.split(".").join("");
    if (isdigit(duration)) {
      if (!decimal(duration)) { return false; } // int() raises: so does the parser
      parsed.add(designator);
    } else if (isdigit(digits) && !remainder) {
      if (!decimal(digits) || duration.length - digits.length > 1) { return false; } // float()
      parsed.add(designator);
    }
    if (parsed.has(designator) || designator === "t") { current = remainder; }
    if (designator === "t") { exprT = true; }
  }
  const parsedT = TIME_SPECS.some((d) => parsed.has(d));
  return !(current.length || parsedT !== exprT
    || (parsed.has("weeks") && DATE_SPECS.some((d) => parsed.has(d))));
}

export function isDuration(text) {
  return parses(text) && text.toUpperCase().startsWith("P");
}

export default function dueIn() {
  function check(node, reporter) {
    if (node.$type !== "bpmn:UserTask") { return; }
    propertyValues(node, "dueIn").forEach((due) => {
      if (!isDuration(due)) {
        reporter.report(node.id, `期限 dueIn “${due}” 不是 ISO 8601 时长（如 P5D）`);
      }
    });
  }
  return { check };
}
