from __future__ import annotations

from shared.errors import Conflict, DomainError, NotFound, PayloadTooLarge


class VendorNotFound(NotFound):
    code = "vendor-not-found"
    title = "Vendor not found"


class ComponentNotFound(NotFound):
    code = "component-not-found"
    title = "Component not found"


class DependencyNotFound(NotFound):
    code = "dependency-not-found"
    title = "Dependency not found"


class InterfaceNotFound(NotFound):
    code = "interface-not-found"
    title = "Interface not found"


class ReferenceNotFound(DomainError):
    """A body names a system, component or vendor the caller's organisation does not have."""

    status, code, title = 422, "reference-not-found", "Referenced object not found"


class SelfDependency(DomainError):
    status, code, title = 422, "dependency-on-itself", "A node cannot depend on itself"


class BomRefTaken(Conflict):
    code = "bom-ref-taken"
    title = "bom-ref used by another component of the system"


class VendorNameTaken(Conflict):
    code = "vendor-name-taken"
    title = "A vendor with this name exists"


class VendorInUse(Conflict):
    code = "vendor-in-use"
    title = "Vendor still referenced by components"


class DependencyExists(Conflict):
    code = "dependency-exists"
    title = "This dependency exists already"


class BomError(DomainError):
    """A CycloneDX BOM that cannot be imported; nothing was changed."""

    status, code, title = 422, "bom-invalid", "The BOM cannot be imported"


class BomNotJson(BomError):
    status, code, title = 400, "bom-not-json", "The BOM is not JSON"


class BomTooLarge(BomError):
    status, code, title = PayloadTooLarge.status, "bom-too-large", "The BOM is too large"


class UnsupportedSpecVersion(BomError):
    """The BOM's ``specVersion`` is not one the importer reads (the problem lists them)."""

    status, code, title = 422, "bom-spec-version-unsupported", "CycloneDX version not supported"
