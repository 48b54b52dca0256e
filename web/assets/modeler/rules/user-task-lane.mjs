// A user task sits in a lane that names a candidate group someone works: in any other lane,
// or in none, it would wait for a person who never sees it (engine.validation._check_lanes).
// The lanes are the catalog's (the page's "groups"), their other names ("lane_aliases": a
// role's id), or names the deployment's deployment.json declares ("declared_lanes": those of
// the version being edited, which the page deploys again with it); the server checks nothing
// when the catalog has no lanes, nor does this rule. Candidate groups written for Camunda
// move the task into a lane on the server (engine/foreign/user_tasks.py): left to the server.
import { catalogOf, foreignGroups, listed } from "./util.mjs";

// Each flow node's lane, from every lane of the file in document order (the last one
// naming a node wins, as in the server's dict).
function lanesOf(definitions) {
  const found = new Map();
  function lanes(laneSet) {
    ((laneSet && laneSet.lanes) || []).forEach((lane) => {
      (lane.flowNodeRef || []).forEach((node) => { found.set(node.id, lane); });
      lanes(lane.childLaneSet);
    });
  }
  function container(element) {
    (element.laneSets || []).forEach(lanes);
    (element.flowElements || []).forEach((child) => {
      if (child.laneSets || child.flowElements) { container(child); }
    });
  }
  (definitions.rootElements || []).forEach((root) => {
    if (root.$type === "bpmn:Process") { container(root); }
  });
  return found;
}

export default function userTaskLane(options) {
  const catalog = catalogOf(options);
  let lanes = new Map();

  // Catalog.lane_of(name, declared) is not None
  function known(name) {
    const written = name || "";
    const group = catalog.declaredLanes.has(written) ? catalog.declaredLanes.get(written) : written;
    return catalog.lanes.has(group) || catalog.laneAliases.has(group);
  }

  function check(node, reporter) {
    if (!catalog.lanes || !catalog.lanes.size) { return; }
    if (node.$type === "bpmn:Definitions") { lanes = lanesOf(node); }
    if (node.$type !== "bpmn:UserTask" || foreignGroups(node)) { return; }
    const all = listed(catalog.lanes, "");
    const lane = lanes.get(node.id);
    if (!lane) {
      reporter.report(node.id, `用户任务不在任何泳道中，无人能办理（泳道即办理角色: ${all}）`);
    } else if (!known(lane.name)) {
      reporter.report(node.id, `泳道“${lane.name || lane.id}”没有对应的办理角色，其中的用户任务无人能` +
        `办理（可用的泳道: ${all}，或角色名；其他名称请在 deployment.json 中声明）`);
    }
  }
  return { check };
}
