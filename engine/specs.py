"""What the engine plugs into SpiffWorkflow, by its lookup tables.

- ``DeferredServiceTask``: a service task whose step evaluates its parameters and stops in
  STARTED; an rq job runs the handler and completes it later.
- ``Workflow``/``SubWorkflow``: the task iterator's depth bound lifted, so that a loop of
  hundreds of rounds (an application returned again and again) keeps running.
- ``Parser`` and ``SERIALIZER_CONFIG``: the two tables that register them.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
)
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask

MAX_TREE_DEPTH = 1_000_000
"""Depth bound of the task iterator (SpiffWorkflow's default of 1,000 stalls long loops)."""

PARAMS_KEY = "service_params"
"""Internal-data key where a deferred service task keeps its evaluated parameters."""


class DeferredServiceTask(ServiceTask):
    """Evaluates its parameters, then waits in STARTED for the job that runs its handler."""

    def _execute(self, task: Any) -> None:
        task._set_internal_data(**{PARAMS_KEY: self.evaluate_params(task)})


class SubWorkflow(BpmnSubWorkflow):
    def get_tasks_iterator(self, first_task=None, **kwargs):
        kwargs.setdefault("max_depth", MAX_TREE_DEPTH)
        return super().get_tasks_iterator(first_task, **kwargs)


class Workflow(BpmnWorkflow):
    def get_tasks_iterator(self, first_task=None, **kwargs):
        kwargs.setdefault("max_depth", MAX_TREE_DEPTH)
        return super().get_tasks_iterator(first_task, **kwargs)

    def create_subprocess(self, my_task, spec_name):
        subprocess = SubWorkflow(
            self.subprocess_specs[spec_name], parent_task_id=my_task.id, top_workflow=self
        )
        self.subprocesses[my_task.id] = subprocess
        return subprocess


class Parser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, DeferredServiceTask),
    }


class StateConverter(BpmnWorkflowConverter):
    """Serializes a workflow without its specs; they are stored once per definition version."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


SERIALIZER_CONFIG = dict(SPIFF_CONFIG)
SERIALIZER_CONFIG.pop(BpmnWorkflow)
SERIALIZER_CONFIG.pop(BpmnSubWorkflow)
SERIALIZER_CONFIG.pop(ServiceTask)
SERIALIZER_CONFIG[Workflow] = StateConverter
SERIALIZER_CONFIG[SubWorkflow] = BpmnSubWorkflowConverter
SERIALIZER_CONFIG[DeferredServiceTask] = ServiceTaskConverter
