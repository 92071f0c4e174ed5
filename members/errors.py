class ApplicationError(Exception):
    """A business rule refused the request.

    ``fields`` maps a field name (or ``"__all__"``) to a list of messages so that forms
    can show them beside the field and the API can return them in its error shape.
    ``code`` is a stable machine-readable identifier.
    """

    status_code = 400

    def __init__(self, message, *, code="invalid", fields=None, status_code=None):
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.fields = fields or {}
        if status_code is not None:
            self.status_code = status_code


class TransitionNotAllowed(ApplicationError):
    status_code = 409

    def __init__(self, message, *, code="transition_not_allowed", fields=None):
        super().__init__(message, code=code, fields=fields)
