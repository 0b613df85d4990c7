"""Uploads: size and type proven by the bytes, stored with the use case that uses them."""
import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import StoredFile
from app.services.errors import NotFound, ValidationFailed

MAX_FILE_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = {'png': 'image/png', 'jpeg': 'image/jpeg', 'gif': 'image/gif', 'bmp': 'image/bmp'}
# names an image may be sent under; the bytes decide which image type it is
_EXTENSIONS = {'png', 'jpg', 'jpeg', 'jpe', 'jfif', 'gif', 'bmp'}


def sniff(content: bytes) -> str | None:
    """The image type its magic bytes prove, or None."""
    if content.startswith(b'\x89PNG\r\n\x1a\n'):
        return 'png'
    if content.startswith(b'\xff\xd8\xff'):
        return 'jpeg'
    if content[:6] in (b'GIF87a', b'GIF89a'):
        return 'gif'
    if content.startswith(b'BM') and len(content) > 26:
        return 'bmp'
    return None


def check_upload(filename: str, content: bytes, field='file') -> str:
    """The proven image type; ValidationFailed (413 for size) otherwise."""
    if len(content) > MAX_FILE_BYTES:
        raise ValidationFailed({field: [_l('文件“%(name)s”超过 10 MB', name=filename)]}, status=413)
    if not content:
        raise ValidationFailed({field: [_l('文件“%(name)s”是空文件', name=filename)]})
    ext = extension(filename)
    if ext is not None and ext not in _EXTENSIONS:
        raise ValidationFailed({field: [_l('文件“%(name)s”的扩展名不是图片（只接受 gif/bmp/jpeg/jpg/png），'
                                           '请选择图片文件', name=filename)]})
    kind = sniff(content)
    if kind is None:
        raise ValidationFailed({field: [_l('文件“%(name)s”不是 gif/bmp/jpeg/jpg/png 图片', name=filename)]})
    # a PNG named .jpg is still an image: the bytes decide its type (stored and served as what it is)
    return kind


def extension(filename: str) -> str | None:
    """The lower-case extension of the name a file was sent under (its folder path dropped), None without one."""
    name = (filename or '').replace('\\', '/').rsplit('/', 1)[-1]
    stem, dot, ext = name.rpartition('.')
    return ext.strip().lower() if dot and stem.strip() else None


def display_name(filename: str) -> str:
    """The name a download is offered under: the phone's folder path and control characters dropped, at most
    120 characters with the extension kept."""
    name = ''.join(c for c in (filename or '').replace('\\', '/').rsplit('/', 1)[-1] if c.isprintable()).strip()
    if len(name) > 120:
        stem, dot, ext = name.rpartition('.')
        name = stem[:120 - len(ext) - 1] + dot + ext if dot and len(ext) <= 10 else name[:120]
    return name or 'upload'


def _stored_name(filename: str, kind: str) -> str:
    """display_name, with the proven type's extension added to a name that has none (a phone's "blob")."""
    name = display_name(filename)
    return name if extension(name) else f'{name[:115]}.{"jpg" if kind == "jpeg" else kind}'


def add_upload(user, filename: str, content: bytes, field='file') -> StoredFile:
    """Validate and add (not commit) a stored file owned by `user`."""
    kind = check_upload(filename, content, field)
    row = StoredFile(sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                     content_type=IMAGE_TYPES[kind], original_name=_stored_name(filename, kind),
                     content=content, uploaded_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    return row


def files_by_id(ids) -> dict[int, StoredFile]:
    if not ids:
        return {}
    rows = db.session.scalars(select(StoredFile).where(StoredFile.id.in_(list(ids))))
    return {f.id: f for f in rows}


def check_owned(user, ids, allowed_extra=(), field='proof_files') -> None:
    """Every id must be a file the user uploaded (or one already on this case)."""
    found = files_by_id(ids)
    bad = [i for i in ids if i not in found or (found[i].uploaded_by_id != user.id and i not in allowed_extra)]
    if bad:
        raise ValidationFailed({field: [_l('文件不存在或不属于您：%(ids)s', ids=', '.join(map(str, bad)))]})


def get_file(file_id: int) -> StoredFile:
    row = db.session.get(StoredFile, file_id)
    if row is None:
        raise NotFound()
    return row


def upload(user, filename: str, content: bytes) -> StoredFile:
    """Store one upload on its own (API clients upload first, then submit ids)."""
    from app.services import transaction
    if not filename and not content:
        raise ValidationFailed({'file': [_l('请选择要上传的文件')]})
    with transaction():
        return add_upload(user, filename, content)


def for_download(user, file_id: int) -> StoredFile:
    """The file if the user uploaded it or may see a case it is attached to; NotFound otherwise.

    "May see a case": submitted it or held one of its tasks (`visible_instance`), or the process says so
    (`ProcessHooks.may_view`: a volunteer on a V-order, also one a provider dispatched it to)."""
    from app.models import InstanceFile, WorkflowInstance
    from app.services.hooks import hooks_for
    from app.services.tasks import visible_instance
    row = get_file(file_id)
    if row.uploaded_by_id == user.id:
        return row
    for instance_id in db.session.scalars(select(InstanceFile.instance_id).where(InstanceFile.file_id == file_id)):
        try:
            visible_instance(user, instance_id)
            return row
        except NotFound:
            instance = db.session.get(WorkflowInstance, instance_id)
            if instance is not None and hooks_for(instance.process_key).may_view(user, instance):
                return row
    raise NotFound()
