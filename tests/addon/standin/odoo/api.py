"""odoo.api: decorators (no-ops here) and the Environment."""

from .translate import translate


def _identity_decorator(*args):
    if len(args) == 1 and callable(args[0]):
        return args[0]

    def decorate(method):
        return method

    return decorate


model = depends = constrains = onchange = model_create_multi = depends_context = _identity_decorator


def ondelete(**kwargs):
    return _identity_decorator


class Environment:
    """``env``: model access by name, the user, the company, the context, sudo and the cursor."""

    def __init__(self, registry, uid, context=None, su=False, cr=None):
        self.registry = registry
        self.uid = uid
        self.context = dict(context or {})
        self.su = su
        self.cr = cr if cr is not None else registry.main_cursor

    def __getitem__(self, model_name):
        return self.registry.classes[model_name](self, ())

    def __call__(self, cr=None, user=None, context=None, su=None):
        uid = self.uid if user is None else getattr(user, "id", user)
        return Environment(
            self.registry,
            uid,
            self.context if context is None else context,
            self.su if su is None else su,
            self.cr if cr is None else cr,
        )

    def ref(self, xml_id, raise_if_not_found=True):
        """The record of an external id (``registry.xmlids``: ``{xml id: (model, id)}``)."""
        found = getattr(self.registry, "xmlids", {}).get(xml_id)
        if found is None:
            if raise_if_not_found:
                raise ValueError(f"External ID not found in the system: {xml_id}")
            return None
        model, record_id = found
        return self[model].browse(record_id)

    @property
    def user(self):
        return self["res.users"].browse(self.uid)

    @property
    def company(self):
        """The first of the context's ``allowed_company_ids``, else the user's company."""
        allowed = self.context.get("allowed_company_ids")
        if allowed:
            return self["res.company"].browse(self.companies.ids[0])
        user = self.registry.rows["res.users"].get(self.uid, {})
        return self["res.company"].browse(user.get("company_id") or self.registry.company_id)

    @property
    def companies(self):
        """The context's ``allowed_company_ids`` (only the user's companies, unless superuser), else all
        the user's companies."""
        from .exceptions import AccessError

        user = self.registry.rows["res.users"].get(self.uid, {})
        user_companies = list(user.get("company_ids") or [self.registry.company_id])
        allowed = self.context.get("allowed_company_ids")
        if not allowed:
            return self["res.company"].browse(tuple(user_companies))
        if not self.su and any(cid not in user_companies for cid in allowed):
            raise AccessError("Access to unauthorized or invalid companies.")
        return self["res.company"].browse(tuple(allowed))

    @property
    def lang(self):
        return self.context.get("lang")

    def _(self, source, *args, **kwargs):
        """Odoo 18+: ``self.env._(...)``."""
        return translate(source, *args, **kwargs)
