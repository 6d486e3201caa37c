"""The supervisors' web console (`balagh console`): its own process, beside `balagh run`.

- `passwords.py` console passwords: salted scrypt hashes (the supervisors' PIN scheme)
- `accounts.py`  console.sqlite3: users, sessions and the login/action audit (sync sqlite3)
- `access.py`    roles and what a user may see and monitor (pure)
- `csrf.py`      per-session CSRF tokens (pure)
- `board.py`     the wallboard and live-call model from AMI events and reports (pure)
- `feed.py`      keeps the model current (AMI events, SQLite changes) and fans it out
- `pages.py`     the HTML pages (server-rendered, escaped)
- `web.py`       the Starlette application: routes, login, sessions
- `static/`      the wallboard's script and style sheet
"""
