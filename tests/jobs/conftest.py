"""Job-test fixtures: a real Redis database (skipped when unreachable) and a small diagram with timers."""
import os

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from app.extensions import db
from app.models import User, WorkflowInstance
from app.services import transaction
from app.services.instances import deploy, new_run, save_run

# flushed by every test: give each parallel test run its own database number
TEST_REDIS_URL = os.environ.get('TEST_REDIS_URL', 'redis://127.0.0.1:6379/15')
PROCESS_KEY = 'timer_probe'

# review in the station's inbox; a non-interrupting reminder after `reminder_after` messages the station
# through the registered service task, an interrupting deadline after `deadline_after` ends the case
TIMER_BPMN = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Definitions_timer_probe" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="timer_probe" name="Timer probe" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_station" name="station_admin">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>remind_timer</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>send_reminder</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_reminded</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>deadline_timer</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_overdue</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_done</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="社工站初审">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="review.json"/>
          <spiffworkflow:property name="scope" value="station_scope"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f_start</bpmn:incoming>
      <bpmn:outgoing>f_done</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="remind_timer" name="提醒" cancelActivity="false" attachedToRef="review">
      <bpmn:outgoing>f_remind</bpmn:outgoing>
      <bpmn:timerEventDefinition id="ted_remind">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">reminder_after</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:serviceTask id="send_reminder" name="发送提醒">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="messages.remind" resultVariable="remind_result">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="role" type="str" value="&quot;station_admin&quot;"/>
            <spiffworkflow:parameter id="scope_var" type="str" value="&quot;station_scope&quot;"/>
            <spiffworkflow:parameter id="title" type="str" value="&quot;审核即将到期&quot;"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f_remind</bpmn:incoming>
      <bpmn:outgoing>f_reminded</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end_reminded"><bpmn:incoming>f_reminded</bpmn:incoming></bpmn:endEvent>
    <bpmn:boundaryEvent id="deadline_timer" name="逾期" attachedToRef="review">
      <bpmn:outgoing>f_overdue</bpmn:outgoing>
      <bpmn:timerEventDefinition id="ted_deadline">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">deadline_after</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="end_overdue"><bpmn:incoming>f_overdue</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_done"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f_done" sourceRef="review" targetRef="end_done"/>
    <bpmn:sequenceFlow id="f_remind" sourceRef="remind_timer" targetRef="send_reminder"/>
    <bpmn:sequenceFlow id="f_reminded" sourceRef="send_reminder" targetRef="end_reminded"/>
    <bpmn:sequenceFlow id="f_overdue" sourceRef="deadline_timer" targetRef="end_overdue"/>
  </bpmn:process>
</bpmn:definitions>
'''.encode()


@pytest.fixture
def redis_conn():
    """Redis db 15, flushed before and after; the test is skipped when no Redis answers."""
    conn = Redis.from_url(TEST_REDIS_URL)
    try:
        conn.ping()
    except RedisError:
        pytest.skip('Redis is not reachable at ' + TEST_REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def with_redis(app, redis_conn, monkeypatch):
    """The app configured for the test Redis (jobs go to rq instead of running inline)."""
    monkeypatch.setitem(app.config, 'REDIS_URL', TEST_REDIS_URL)
    return redis_conn


@pytest.fixture
def timer_case():
    """timer_case(reminder_after='PT1S', deadline_after='P14D') -> instance id, committed, review open."""
    def _make(reminder_after='PT1S', deadline_after='P14D'):
        with transaction():
            version = deploy(PROCESS_KEY, TIMER_BPMN)
            submitter = db.session.scalar(select(User).where(User.username == 'vol_zhang'))
            instance = WorkflowInstance(version_id=version.id, version=version, process_key=PROCESS_KEY,
                                        submitter_id=submitter.id, status='running', title='陈伯（定时器测试）')
            db.session.add(instance)
            db.session.flush()
            run = new_run(instance, {'instance_id': instance.id, 'station_scope': 'xicun_station',
                                     'reminder_after': reminder_after, 'deadline_after': deadline_after})
            save_run(instance, run)
        return instance.id
    return _make
