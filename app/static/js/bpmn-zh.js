// Simplified-Chinese labels for the bpmn-js palette, context pad and replace menu (a `translate`
// module; strings not listed stay in English). window.BpmnZh(lang) returns the module.
(function () {
  var ZH = {
    'Activate hand tool': '拖动画布', 'Activate lasso tool': '框选', 'Activate create/remove space tool': '插入/删除空白',
    'Activate global connect tool': '连线工具', 'Create start event': '开始事件', 'Create end event': '结束事件',
    'Create intermediate/boundary event': '中间/边界事件', 'Create gateway': '分支（网关）', 'Create task': '步骤（任务）',
    'Create data object reference': '数据对象', 'Create data store reference': '数据存储',
    'Create expanded sub-process': '子流程', 'Create pool/participant': '泳池', 'Create group': '分组',
    'Append end event': '追加结束事件', 'Append gateway': '追加分支', 'Append task': '追加步骤',
    'Append intermediate/boundary event': '追加中间事件', 'Append text annotation': '追加注释',
    'Change element': '更改类型', 'Change type': '更改类型', 'Delete': '删除', 'Remove': '删除',
    'Connect using sequence/message flow or association': '连线', 'Connect to other element': '连线',
    'Connect using association': '关联', 'Connect using data input association': '数据关联',
    'Add lane above': '在上方添加泳道', 'Add lane below': '在下方添加泳道',
    'Divide into two lanes': '分成两条泳道', 'Divide into three lanes': '分成三条泳道',
    'Task': '步骤', 'User task': '审核/填写步骤（用户任务）', 'Service task': '系统步骤（服务任务）',
    'Script task': '脚本任务（不允许）', 'Manual task': '线下任务', 'Send task': '发送任务', 'Receive task': '接收任务',
    'Business rule task': '规则任务', 'Call activity': '调用活动', 'Sub-process (collapsed)': '子流程（折叠）',
    'Sub-process (expanded)': '子流程（展开）', 'Exclusive gateway': '排他分支', 'Parallel gateway': '并行分支',
    'Inclusive gateway': '包容分支', 'Event-based gateway': '事件分支', 'Complex gateway': '复杂分支',
    'Start event': '开始事件', 'End event': '结束事件', 'Terminate end event': '终止结束事件',
    'Intermediate throw event': '中间抛出事件', 'Timer start event': '定时开始', 'Timer intermediate catch event': '定时等待',
    'Sequence flow': '连线', 'Default flow': '默认路径', 'Conditional flow': '条件连线',
    'Search in diagram': '在图中搜索', 'Search': '搜索', 'Open minimap': '打开小地图', 'Close minimap': '关闭小地图'
  };
  window.BpmnZh = function (lang) {
    function translate(template, replacements) {
      replacements = replacements || {};
      if (lang !== 'en' && ZH[template]) template = ZH[template];
      return template.replace(/{([^}]+)}/g, function (_, key) {
        return replacements[key] !== undefined ? replacements[key] : '{' + key + '}';
      });
    }
    return { translate: ['value', translate] };
  };
})();
