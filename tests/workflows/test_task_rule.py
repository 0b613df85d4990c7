"""lint's task_rule: the application's own per-user-task checks (the 管辖范围变量 a process provides) become
problems of that task, with its line, next to the engine's own checks."""

from workflows import lint

ROLES = {"submitter", "station_admin", "street_admin"}
FORMS = {"service_object_entry.json", "review.json"}
KNOWN = {"revision", "decision"}


def test_the_rule_sees_every_user_task_and_its_messages_become_problems(calls, diagram_xml):
    seen = []

    def rule(task):
        seen.append((task["bpmn_id"], task["name"], task["lane"], task["form"], task["scope"]))
        return [f"no good: {task['scope']}"] if task["scope"] == "street_scope" else []

    problems = lint(diagram_xml, "service_object_entry", roles=ROLES, forms=FORMS, known_vars=KNOWN, task_rule=rule)
    assert sorted(seen) == [
        ("station_review", "社工站初审", "station_admin", "review.json", "station_scope"),
        ("street_review", "镇街终审", "street_admin", "review.json", "street_scope"),
        ("submit", "提交服务对象信息", "submitter", "service_object_entry.json", None),
    ]
    assert [(p.element_id, p.message) for p in problems] == [("street_review", "no good: street_scope")]
    assert problems[0].line and b'id="street_review"' in diagram_xml.splitlines()[problems[0].line - 1]


def test_without_a_rule_a_missing_scope_is_no_engine_problem(calls, diagram_xml):
    """The engine itself does not know which variables a process provides: only the application's rule does."""
    xml = diagram_xml.replace(b'<spiffworkflow:property name="scope" value="street_scope"/>', b"")
    assert lint(xml, "service_object_entry", roles=ROLES, forms=FORMS, known_vars=KNOWN) == []
    problems = lint(xml, "service_object_entry", roles=ROLES, forms=FORMS, known_vars=KNOWN,
                    task_rule=lambda t: ["no scope"] if t["lane"] != "submitter" and not t["scope"] else [])
    assert [(p.element_id, p.message) for p in problems] == [("street_review", "no scope")]
