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

    def __repr__(self):
        return f"{type(self).__name__}({self.message!r}, code={self.code!r}, fields={self.fields!r})"


class TransitionNotAllowed(ApplicationError):
    """A case transition was refused: the case is in the wrong state or the actor may not take it.

    ``code`` is ``invalid_state`` (409, the case has moved on) or ``not_permitted`` (403).
    """

    status_code = 409

    def __init__(self, message, *, code="transition_not_allowed", fields=None, status_code=None):
        super().__init__(message, code=code, fields=fields, status_code=status_code)
