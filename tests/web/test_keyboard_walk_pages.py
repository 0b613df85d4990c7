"""What a screen reader is told by the pages themselves: which fields must be filled in, and 认领 that returns to
the decision form (the browser then tabs on from there) or, refused, to the top where the reason is shown."""
import re


def test_required_fields_are_required_to_a_screen_reader(login):
    html = login('vol_zhang').get('/m/service-objects/new').get_data(as_text=True)
    required = set(re.findall(r'name="([a-z_]+)"[^>]*aria-required="true"', html))
    assert {'name', 'phone', 'id_number', 'household_street', 'filler_phone'} <= required, required
    notes = re.search(r'<(?:input|textarea)[^>]*name="notes"[^>]*>', html).group(0)
    assert 'aria-required' not in notes, 'an optional field is not announced as required'
    # the photo box (a file input takes no aria-required): its label says 必填 in words the eye does not need
    label = re.search(r'<label class="label" for="f-proof_files"[^>]*>(.*?)</label>', html, re.S).group(1)
    assert '<span class="sr-only">（必填）</span>' in label


def test_claiming_returns_to_the_decision_form_and_a_refused_claim_to_the_top(api, login, case_at_street):
    _inst, tid = case_at_street()
    xicun = login('street_xicun')
    done = xicun.post(f'/inbox/tasks/{tid}/claim')
    assert done.status_code == 302 and done.headers['Location'].endswith(f'/inbox/tasks/{tid}#decision-form')
    refused = login('street_xinshi').post(f'/inbox/tasks/{tid}/claim')  # 西村街 holds it
    assert refused.status_code == 302 and refused.headers['Location'].endswith(f'/inbox/tasks/{tid}')
    assert xicun.post(f'/inbox/tasks/{tid}/unclaim').headers['Location'].endswith(f'/inbox/tasks/{tid}')
