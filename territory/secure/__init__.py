"""The platform's trust boundary on the broker: identities, least privilege and TLS.

`territory secure init` turns an inventory into a mosquitto 2 set-up (`init`); an
account file (`account`) is what each component reads with `--mqtt-auth FILE`;
`territory secure compose` writes that set-up and every other secret docker-compose.yml
reads (`compose`).
"""

from territory.secure.account import AccountError, MqttAccount, TopicRights, load_account
from territory.secure.init import SecureInitOptions, SecureInitResult, secure_init

__all__ = [
    "AccountError",
    "MqttAccount",
    "SecureInitOptions",
    "SecureInitResult",
    "TopicRights",
    "load_account",
    "secure_init",
]
