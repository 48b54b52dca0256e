// The version diff drawn on the diagrams (model_diff.html): bpmn-js-differ compares the two
// versions' definitions; added, removed, changed and moved elements are marked on each side.
