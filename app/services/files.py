"""Uploads: size and type proven by the bytes, stored with the use case that uses them."""
import hashlib
import struct

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import StoredFile
from app.services.errors import NotFound, ValidationFailed

MAX_FILE_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = {'png': 'image/png', 'jpeg': 'image/jpeg', 'gif': 'image/gif', 'bmp': 'image/bmp'}
# names an image may be sent under; the bytes decide which image type it is
_EXTENSIONS = {'png', 'jpg', 'jpeg', 'jpe', 'jfif', 'gif', 'bmp'}
# a few compressed megabytes can claim 20000 x 20000 pixels (1.6 GB once decoded) and take down the phone or station
# PC of the reviewer who opens the case; a 50-megapixel phone camera (8160 x 6120) and its panoramas still fit
MAX_PIXELS = 50_000_000
MAX_SIDE = 20_000


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
    size = dimensions(kind, content)
    if size and (size[0] * size[1] > MAX_PIXELS or max(size) > MAX_SIDE):
        raise ValidationFailed({field: [_l('图片尺寸过大：“%(name)s”为 %(width)s×%(height)s 像素，最多 5000 万像素、'
                                           '每边不超过 20000 像素，请缩小后再上传',
                                           name=filename, width=size[0], height=size[1])]})
    # a PNG named .jpg is still an image: the bytes decide its type (stored and served as what it is)
    return kind


def dimensions(kind: str, content: bytes) -> tuple[int, int] | None:
    """(width, height) in pixels as the image's headers declare them, read without decoding; None when the headers
    cannot be read (a browser cannot draw such a file either)."""
    try:
        if kind == 'png':
            return struct.unpack('>II', content[16:24]) if content[12:16] == b'IHDR' else None
        if kind == 'bmp':
            if struct.unpack('<I', content[14:18])[0] == 12:  # the old OS/2 header has 16-bit sizes
                return struct.unpack('<HH', content[18:22])
            width, height = struct.unpack('<ii', content[18:26])
            return abs(width), abs(height)  # a negative height is a top-down bitmap
        return _gif_size(content) if kind == 'gif' else _jpeg_size(content)
    except (struct.error, IndexError):
        return None


def _jpeg_size(content: bytes) -> tuple[int, int] | None:
    """The first frame header's size; like libjpeg, bytes between segments are skipped up to the next marker."""
    i = 2
    while i < len(content) - 1:
        if content[i] != 0xFF:
            i += 1
            continue
        marker = content[i + 1]
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD8:  # fill byte, segments without a length
            i += 1 if marker == 0xFF else 2
            continue
        if marker == 0xDA:  # start of scan: no frame header before the image data
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack('>HH', content[i + 5:i + 9])
            return width, height
        i += 2 + struct.unpack('>H', content[i + 2:i + 4])[0]
    return None


def _gif_size(content: bytes) -> tuple[int, int]:
    """The logical screen, grown to every frame that reaches beyond it (browsers draw the frames whole)."""
    width, height = struct.unpack('<HH', content[6:10])
    i = 13 + (3 << ((content[10] & 7) + 1) if content[10] & 0x80 else 0)
    while i < len(content) and content[i] != 0x3B:
        if content[i] == 0x2C:
            left, top, w, h, flags = struct.unpack('<HHHHB', content[i + 1:i + 10])
            width, height = max(width, left + w), max(height, top + h)
            i += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1  # local colour table, LZW code size
        elif content[i] == 0x21:
            i += 2
        else:
            break
        while i < len(content) and content[i]:  # data sub-blocks up to the empty one
            i += content[i] + 1
        i += 1
    return width, height


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
