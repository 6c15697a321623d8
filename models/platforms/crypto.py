"""AES-CBC helpers for the encrypted pushes (Kuaishou, WeChat)."""
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def aes_cbc_decrypt(key, iv, data):
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv), backend=default_backend()).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def aes_cbc_encrypt(key, iv, data):
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv), backend=default_backend()).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def pkcs7_pad(data, block_size):
    pad = block_size - len(data) % block_size
    return data + bytes([pad]) * pad


def pkcs7_unpad(data, block_size):
    if not data or len(data) % 16:
        raise ValueError("bad padding")
    pad = data[-1]
    if not 1 <= pad <= block_size or data[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad padding")
    return data[:-pad]
