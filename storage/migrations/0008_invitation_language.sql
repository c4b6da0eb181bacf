-- The language a coordinator chose on an invitation (`/invite contact K-17 ko`,
-- `nabat invite --lang ko`): the person reads nabat in it from enrolment on. Encrypted.
ALTER TABLE invitations ADD COLUMN lang_enc BLOB;
