"""Model files named before or after ``--data`` on a ``python -m training`` command line.

``--data`` takes every name after it, and argparse's usage line puts it before the positional
arguments (``quantize ... [--data [DATA ...]] ... model output``): ``eval --data ROOT MODEL`` and
``quantize --data ROOT MODEL OUTPUT`` were refused, saying to name the models before --data.
Told by their suffix, the model files among its names are the command's own (``DataThenModels``),
put among its positional arguments by ``CommandParser``, the parser of every command.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from training.options import data_root, is_model_name, stemgui_suffix_rule


def model_or_data_root(text: str) -> str:
    """A ``--data`` value: a model file, by its suffix, as given (``CommandParser`` checks it
    as the argument it becomes: ``DataThenModels``), else a data root (``data_root``)."""
    return text if is_model_name(text) else data_root(text)


_BEFORE_DATA = "_positionals_before_data"  # namespace attributes, removed by CommandParser
_AFTER_DATA = "_models_after_data"


class DataThenModels(argparse.Action):
    """``--data`` of eval, quantize, segment and bag: the data roots, and the model files named
    after them (by their suffix), which ``CommandParser`` puts among the command's positional
    arguments where they stand on the command line (of model files alone, it is refused
    there). Given again, it goes on as if in one ``--data``: its roots are added to the earlier
    ones (``--data d1 --data d2`` kept d2's alone)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        earlier = getattr(namespace, self.dest, None) or []  # None: eval's, no default
        roots = [value for value in values if not is_model_name(value)]
        setattr(namespace, self.dest, [*earlier, *roots])
        models, before = [], len(earlier)  # each model file with the count of roots before it
        for value in values:
            if is_model_name(value):
                models.append((value, before))
            else:
                before += 1
        if not models:
            return
        if not isinstance(parser, CommandParser):  # nothing would place them: never dropped
            named = " ".join(model for model, _ in models)
            raise argparse.ArgumentError(
                self, f"{named}: model files; name them before {option_string}"
            )
        if not hasattr(namespace, _BEFORE_DATA):  # the positional arguments given so far
            given = [a.dest for a in parser._get_positional_actions()]
            setattr(namespace, _BEFORE_DATA, [d for d in given if getattr(namespace, d, None)])
        setattr(namespace, _AFTER_DATA, [*getattr(namespace, _AFTER_DATA, []), *models])


class CommandParser(argparse.ArgumentParser):
    """The parser of one ``python -m training`` command: where ``--data`` is ``DataThenModels``,
    the model files named after it join the positional arguments in the order they were given
    (``quantize --data ROOT MODEL OUTPUT`` is ``quantize MODEL OUTPUT --data ROOT``), each
    checked as the argument it becomes (by its type: argparse checked a name by the place it
    gave it, bag's member ``n.th`` as OUTPUT in ``bag --data d b.stemgui m.th --overwrite n.th``),
    and an argument still missing is said as argparse says it. Then its ``checks`` (bag's: two
    members or more) each return what is wrong with the whole command, "" when nothing, said as
    argparse says an error (exit status 2); each is given the namespace and what to add when a
    model file is missing: the data root, no folder, taken in its place (" (after --data, n was
    taken for a data folder, ...)"), "" when none."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.checks: list[Callable[[argparse.Namespace, str], str]] = []

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras, misplaced = self._parse_and_place(args, namespace)
        taken = "" if misplaced is None else _told_by_suffix(misplaced)
        for check in self.checks:
            if said := check(namespace, taken):
                self.error(said)
        return namespace, extras

    def _parse_and_place(self, args, namespace):
        """The namespace, the names left over, and the data root taken in place of a model
        file (``_in_place_of_a_model``), None if none."""
        if not any(isinstance(action, DataThenModels) for action in self._actions):
            return (*super().parse_known_args(args, namespace), None)
        positionals = self._get_positional_actions()
        saved = [(action, action.required, action.type) for action in positionals]
        for action in positionals:  # may come after --data: checked once they are placed
            action.required, action.type = False, None
        try:
            namespace, extras = super().parse_known_args(args, namespace)
        finally:
            for action, required, kind in saved:
                action.required, action.type = required, kind
        return namespace, extras, self._place_models(namespace, positionals)

    def _place_models(self, namespace: argparse.Namespace, positionals: list) -> str | None:
        after = vars(namespace).pop(_AFTER_DATA, [])
        before = vars(namespace).pop(_BEFORE_DATA, [a.dest for a in positionals])
        data = next(a.dest for a in self._actions if isinstance(a, DataThenModels))
        roots = getattr(namespace, data)
        if after and not roots:  # after every --data given: --data m.th --data d has one
            self.error(
                f"argument --data: {' '.join(name for name, _ in after)}: model files, and no "
                "data folder; name the folders of tracks after --data"
            )

        def given(action: argparse.Action) -> list[tuple[str, str]]:
            value = getattr(namespace, action.dest, None)
            names = [] if value is None else [value] if action.nargs is None else value
            return [(name, "") for name in names]

        # (name, what to add if it is refused), in the command line's order
        names = [name for a in positionals if a.dest in before for name in given(a)]
        names += [(name, _misread(roots[count - 1] if count else None)) for name, count in after]
        names += [name for a in positionals if a.dest not in before for name in given(a)]
        singles = sum(action.nargs is None for action in positionals)
        spare = max(len(names) - singles, 0)  # for the argument of many names (bag's models)
        labels = [action.metavar or action.dest for action in positionals]
        missing = []
        for action, label in zip(positionals, labels):
            take = 1 if action.nargs is None else spare
            taken, names = names[:take], names[take:]
            values = [self._checked(action, label, name, where) for name, where in taken]
            if not values and action.nargs in (None, "+"):
                missing.append(label)
            single = values[0] if values else None
            setattr(namespace, action.dest, single if action.nargs is None else values)
        misplaced = _in_place_of_a_model(roots, after)
        if missing:
            told = _suffix_hint(roots, missing, misplaced)
            self.error(f"the following arguments are required: {', '.join(missing)}{told}")
        if names:
            self.error(
                f"{' '.join(name for name, _ in names)}: more names than {', '.join(labels)}; "
                "name each once, before --data or after its folders"
            )
        return misplaced

    def _checked(self, action: argparse.Action, label: str, name: str, where: str) -> str:
        try:
            return action.type(name) if action.type else name
        except argparse.ArgumentTypeError as error:
            self.error(f"argument {label}: {error}{where}")


def _taken_for_data(root: str) -> str:
    return f"after --data, {root} was taken for a data folder, and there is none"


def _misread(root: str | None) -> str:
    """What to add when a model file named after ``--data`` is refused, ``root`` the data root
    named last before it: that root, when there is no such folder, stood where the refused
    name was meant to go (``bag --data d b m.th n.th``: the bag ``b``, named without its suffix,
    taken for data, and the member m.th refused as OUTPUT)."""
    if root is None or os.path.exists(root):  # os.path's: never raises
        return ""
    return f" ({_taken_for_data(root)})"


def _in_place_of_a_model(roots: list[str], after: list[tuple[str, int]]) -> str | None:
    """The data root, no folder, that stood where the next model file goes: the first such
    after the last model file named after ``--data`` (``after``: each with the count of roots
    before it), or, when none was, the last such (named after the folders); None if none.
    (``quantize --data d m.th q e``, e a folder: q, OUTPUT named without its suffix.)"""
    candidates = roots[after[-1][1] :] if after else roots[::-1]
    return next((root for root in candidates if not os.path.isdir(root)), None)  # never raises


def _suffix_hint(roots: list[str], missing: list[str], misplaced: str | None) -> str:
    """Why an argument is missing when ``--data`` took ``roots``: a model file named without its
    suffix was taken for a data folder, ``misplaced`` when a root that is no folder stood in its
    place (``_in_place_of_a_model``). Where that is OUTPUT, it is the file to write: named with
    the suffix ``.stemgui``."""
    if not roots:
        return ""
    if misplaced is not None and "output" in missing:
        return f" ({_taken_for_data(misplaced)}: {stemgui_suffix_rule(misplaced)})"
    return _told_by_suffix(misplaced)


def _told_by_suffix(misplaced: str | None) -> str:
    """How model files are told from data folders after ``--data``, naming ``misplaced``, the
    root taken in place of one, when there is one."""
    from stemgui.separation.spec import MODEL_SUFFIXES

    taken = "after --data, model" if misplaced is None else f"{_taken_for_data(misplaced)}; model"
    return f" ({taken} files are told by their suffix: {', '.join(MODEL_SUFFIXES)})"
